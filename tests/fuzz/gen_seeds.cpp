// Writes the seed corpus of every fuzz target: encode() of sample messages (tests/unit/common_samples.hpp) and
// of requests shaped for each harness, plus a few known-hostile frames. Usage: gen_seeds DIR (writes
// DIR/codec, DIR/worker, DIR/broker, DIR/mqtt; existing files are overwritten).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "tests/unit/common_samples.hpp"
#include "tests/unit/gateway_mqtt_samples.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace chatbus;
namespace fs = std::filesystem;

namespace {

int written = 0;

void put(const fs::path& dir, const std::string& name, const std::string& bytes) {
    fs::create_directories(dir);
    std::ofstream(dir / ("seed-" + name), std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
    ++written;
}

std::string records(std::initializer_list<std::pair<int, std::string>> recs) {
    std::string out;
    for (const auto& [op, bytes] : recs) fuzz::append_record(out, static_cast<std::uint8_t>(op), bytes);
    return out;
}

// mqtt: every sample packet alone, the ones each role receives as one stream, and hostile packets: a
// Remaining Length over the limit and one with a fifth byte, an MQTT 5 CONNECT, a SUBSCRIBE to a bad filter.
void put_mqtt_seeds(const fs::path& dir) {
    namespace mt = mqtt::test;
    std::string to_server, to_client;
    int i = 0;
    for (const mqtt::Packet& p : mt::sample_packets()) {
        const std::string wire = mt::encoded(p);
        put(dir, "packet-" + std::to_string(i++), wire);
        if (mt::received_by(mqtt::Role::server, mqtt::packet_type(p))) to_server += wire;
        if (mt::received_by(mqtt::Role::client, mqtt::packet_type(p))) to_client += wire;
    }
    put(dir, "stream-to-server", to_server);
    put(dir, "stream-to-client", to_client);
    put(dir, "too-large", std::string("\x30\x81\x80\x04", 4));
    put(dir, "fifth-length-byte", std::string("\x30\x80\x80\x80\x80\x00", 6));
    put(dir, "connect-v5", std::string("\x10\x0F\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x02id", 17));
    put(dir, "subscribe-bad-filter", std::string("\x82\x0A\x00\x01\x00\x05\x61/#/b\x00", 12));
}

const std::string kHdr = "CB\x01";
const std::string kBomb = std::string("\x88\xdf\xff\xff\xff\x8b", 6);

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    fs::path root = argv[1];

    // codec: one sample of every message type, an event with its topic, and hostile frames.
    fs::path codec = root / "codec";
    int i = 0;
    test::for_each_message_type([&](auto proto) {
        using T = decltype(proto);
        put(codec, std::to_string(i++), encode(test::sample<T>()));
    });
    put(codec, "event-topic", encode_with_topic(room_topic("general"), test::sample<Event>()));
    put(codec, "bomb", kHdr + "\x01" + kBomb);
    put(codec, "deep", kHdr + "\x06" + "\x81\xa5texts" + std::string(20, '\x91') + "\xa1x");
    put(codec, "trailing", encode(Hello{5}) + "xx");

    // worker: request sequences against one table (op 0 request, 1 W_STATE import, 2 release, 3 export, 4 limits).
    fs::path worker = root / "worker";
    const std::string tok(64, 'a');
    std::string join = encode(Join{1, "alice", tok, "general"});
    std::string join_b = encode(Join{2, "Bob", tok, "General"});
    std::string send = encode(Send{3, "alice", tok, "general", {"hello", "caf\xC3\xA9\n\ttab"}});
    std::string who = encode(Who{4, "general"});
    std::string hist = encode(History{5, "general", 2, 1});
    std::string leave = encode(Leave{6, "alice", tok, "general"});
    WState st{"general", 41, {"alice", "Bob"}, {}};
    for (std::uint64_t s = 30; s <= 41; ++s) st.history.push_back(Event{"general", s, "message", "alice", "t", s});
    put(worker, "flow", records({{0, join}, {0, join_b}, {0, send}, {0, who}, {0, hist}, {0, leave}, {3, "general"}}));
    put(worker, "handover", records({{1, encode(st)}, {0, send}, {0, hist}, {3, "general"}, {2, "general"},
                                     {0, who}}));
    put(worker, "limits", records({{4, std::string("\x00\x01", 2)}, {0, join}, {0, send}}));
    put(worker, "oddities", records({{0, encode(Ping{7})}, {0, encode(Register{8, "x"})}, {0, kHdr + "\x04\x90"},
                                     {0, kHdr + "\x06" + kBomb}, {0, "CB\x02\x04\x80"}, {0, kHdr + "\x7f\x80"}}));
    i = 0;
    test::for_each_message_type([&](auto proto) {
        using T = decltype(proto);
        put(worker, "sample-" + std::to_string(i++), records({{0, join}, {0, encode(test::sample<T>())}}));
    });

    // broker: mode = first record's op % 4 (see fuzz_broker.cpp); the placeholder stands for the real token.
    fs::path broker = root / "broker";
    const std::string& T = fuzz::kTokenPlaceholder;
    const std::string nick(fuzz::kFuzzNick), room(fuzz::kFuzzRoom);
    std::vector<std::pair<std::string, std::string>> reqs = {
        {"hello", encode(Hello{11})},
        {"register", encode(Register{12, "other"})},
        {"unregister", encode(Unregister{13, nick, T})},
        {"join", encode(Join{14, nick, T, "second"})},
        {"leave", encode(Leave{15, nick, T, room})},
        {"send", encode(Send{16, nick, T, room, {"hi", "there"}})},
        {"dm", encode(Dm{17, nick, T, nick, "note to self"})},
        {"who", encode(Who{18, room})},
        {"rooms", encode(Rooms{19})},
        {"history", encode(History{20, room, 5, 0})},
        {"listen", encode(Listen{21, nick, T})},
        {"ping", encode(Ping{22})},
        {"status", encode(StatusRequest{23})},
        {"dm_ack", encode(DmAck{nick, 1})},
        {"unlisten", encode(Unlisten{nick})},
        {"bad-token", encode(Join{24, nick, std::string(64, '0'), room})},
        {"bomb", kHdr + "\x06" + kBomb},
        {"version", "CB\x02\x01\x80"},
    };
    for (const auto& [name, frame] : reqs) put(broker, "client-" + name, records({{0, frame}}));
    put(broker, "client-listen-flow",
        records({{0, encode(Listen{31, nick, T})}, {0, encode(Dm{32, nick, T, nick, "x"})},
                 {0, encode(DmAck{nick, 5})}, {0, encode(Unlisten{nick})}}));
    put(broker, "client-multipart", records({{1, encode(Hello{33})}, {1, encode(Ping{34})}}));
    std::vector<std::pair<std::string, std::string>> wmsgs = {
        {"heartbeat", encode(WHeartbeat{})},
        {"ready", encode(WReady{"fuzz-worker", "h", 2})},
        {"state", encode(st)},
        {"state-lobby", encode(WState{room, 1000, {nick}, {}})},
        {"reply-unknown", encode(WReply{999999})},
        {"disconnect", encode(WDisconnect{"bye"})},
        {"release", encode(WRelease{room})},
    };
    for (const auto& [name, frame] : wmsgs) put(broker, "worker-" + name, records({{2, frame}}));
    // Mode 3: a reply and events to a real forwarded SEND for "lobby" (seq guessed; the broker's copy decides).
    auto ev = [&](std::uint64_t seq, const char* kind, const char* text) {
        return encode_with_topic(room_topic(room), Event{room, seq, kind, nick, text, 1});
    };
    put(broker, "reply-ok", records({{3, encode(SendReply{0, 0, {}, room, 2, 2})}, {3, ev(2, "message", "x")}}));
    put(broker, "reply-join", records({{3, encode(JoinReply{0, 0, {}, room, 3, true})}, {3, ev(3, "join", "")}}));
    put(broker, "reply-leave", records({{3, encode(LeaveReply{0, 0, {}, room, 4})}, {3, ev(4, "leave", "")}}));
    put(broker, "reply-other-room",
        records({{3, encode(SendReply{0, 0, {}, room, 2, 2})},
                 {3, encode_with_topic(room_topic("other"), Event{"other", 1, "message", nick, "x", 1})}}));
    put_mqtt_seeds(root / "mqtt");
    std::printf("gen_seeds: %d seeds under %s\n", written, root.c_str());
    return 0;
}
