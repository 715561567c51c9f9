// libFuzzer target: the worker's request path (worker/request_handler.hpp, worker/room_table.hpp) on sequences of
// arbitrary frames against one RoomTable, interleaved with room handovers (W_STATE import, W_RELEASE, export).
// Checked after every step: a reply, when there is one, is a well-formed frame of the request's reply type; the
// events a request causes belong to its room and continue its sequence numbers without a gap; every event
// survives the topic framing subscribers get; export -> encode -> decode -> import is the identity.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "common/names.hpp"
#include "worker/request_handler.hpp"
#include "worker/room_table.hpp"

using namespace chatbus;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_worker: %s\n", what);
    std::abort();
}

// A W_STATE whose seq is near 2^64 makes the next event's seq wrap (see docs/security.md: the broker is trusted
// by workers); keep handovers below that so the target looks for other problems.
constexpr std::uint64_t kMaxImportedSeq = std::uint64_t{1} << 62;

void request(RoomTable& table, std::string_view frame) {
    std::string room;
    std::uint64_t before = 0;
    {
        Decoded d;
        if (decode(frame, d) == Status::ok) room = fold_name(peek_string(d, "room"));
        if (const ServedRoom* r = table.find(room)) before = r->last_seq();
    }
    std::vector<Event> events;
    std::optional<std::string> reply = handle_request(table, frame, events);
    if (!reply) {
        if (!events.empty()) fail("events without a reply");
        return;
    }
    Decoded rd;
    if (decode(*reply, rd) != Status::ok) fail("reply does not decode");
    if (frame.size() < kHeaderSize) fail("reply to a frame without a header");
    if (static_cast<std::uint8_t>(rd.type) != (static_cast<std::uint8_t>(frame[3]) | 0x80)) {
        fail("reply type is not the request type + 0x80");
    }
    if (events.empty()) return;
    if (events.front().room != room) fail("event for another room");
    const ServedRoom* r = table.find(room);
    if (!r) fail("events for a room the table does not hold");
    std::uint64_t expect = before;
    for (const Event& e : events) {
        if (e.room != room) fail("events for two rooms");
        if (e.seq != ++expect) fail("event seq does not continue the room");
        if (!valid_nick(e.nick)) fail("event with an invalid nick");
        Decoded ed;
        Event back;
        std::string framed = encode_with_topic(room_topic(e.room), e);
        if (decode_topic_frame(framed, ed) != Status::ok || body_as(ed, back) != Status::ok || !(back == e)) {
            fail("event does not survive topic framing");
        }
    }
    if (r->last_seq() != expect) fail("room seq differs from its last event");
}

void import(RoomTable& table, std::string_view frame) {
    Decoded d;
    if (decode(frame, d) != Status::ok) return;
    d.type = MsgType::w_state;
    WState s;
    if (body_as(d, s) != Status::ok) return;
    if (s.seq > kMaxImportedSeq) s.seq = kMaxImportedSeq;
    bool ok = table.import(s);
    if (ok != valid_room(s.room)) fail("import accepted an invalid room or refused a valid one");
    if (!ok) return;
    const ServedRoom* r = table.find(fold_name(s.room));
    if (!r || r->last_seq() != s.seq) fail("imported room does not have the seq handed over");
}

void round_trip(RoomTable& table, std::string_view name) {
    auto st = table.export_state(name);
    if (!st) return;
    WState back;
    if (decode_as(encode(*st), back) != Status::ok) {
        // Rooms over the network limits (1,024 members or events) are legal on this path: the worker decodes
        // W_STATE from the broker without them. Not a failure here.
        return;
    }
    if (!(back == *st)) fail("W_STATE changes through encode/decode");
    if (!table.import(back)) fail("import refused an exported room");
    auto again = table.export_state(name);
    if (!again || !(*again == *st)) fail("export -> import -> export is not the identity");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    RoomTable table(RoomLimits{.history = 16, .max_text = 4096, .max_batch = 64});
    for (const auto& rec : fuzz::split_records(data, size)) {
        switch (rec.op % 5) {
            case 0:
                request(table, rec.bytes);
                break;
            case 1:
                import(table, rec.bytes);
                break;
            case 2:
                table.release(rec.bytes);
                break;
            case 3:
                round_trip(table, rec.bytes);
                break;
            case 4:
                // The broker's WELCOME overrides the limits (0 keeps the worker's own).
                if (rec.bytes.size() >= 2) {
                    table.set_max_text(static_cast<std::uint8_t>(rec.bytes[0]) * 64 + 1);
                    table.set_max_batch(static_cast<std::uint8_t>(rec.bytes[1]) % 80 + 1);
                }
                break;
        }
    }
    for (const auto& name : table.room_names()) round_trip(table, name);
    return 0;
}
