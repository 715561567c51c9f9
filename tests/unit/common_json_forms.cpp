#include <doctest/doctest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/json_forms.hpp"

using namespace chatbus;
using nlohmann::ordered_json;

namespace {

// The text of a one-string form, e.g. event_json with `text` = s: what a listener prints for it.
std::string text_line(const std::string& s) {
    return json_text(dm_json(DmDeliver{.id = 1, .from = "bob", .to = "alice", .text = s, .ts = 5}));
}
// Just the JSON string literal json_text writes for `s`.
std::string quoted(const std::string& s) {
    return json_text(ordered_json(s));
}

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string doc(const char* name) {
    std::ifstream in(std::string(CHATBUS_SOURCE_DIR) + "/docs/" + name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("json forms: the listener lines docs/chatctl.md shows, byte for byte") {
    const std::string chatctl_md = doc("chatctl.md");
    REQUIRE(!chatctl_md.empty());
    const std::string event = json_text(event_json(Event{
        .room = "lobby", .seq = 3, .kind = "message", .nick = "bob", .text = "hello", .ts = 1700000000000}));
    CHECK(
        event ==
        R"({"type":"event","room":"lobby","seq":3,"kind":"message","nick":"bob","text":"hello","ts":1700000000000})");
    const std::string dm = json_text(
        dm_json(DmDeliver{.id = 2, .from = "bob", .to = "alice", .text = "hi", .ts = 1700000000000}));
    CHECK(dm == R"({"type":"dm","id":2,"from":"bob","to":"alice","text":"hi","ts":1700000000000})");
    const std::string membership =
        json_text(membership_json(Membership{.nick = "alice", .room = "dev", .joined = true, .seq = 7}));
    CHECK(membership == R"({"type":"membership","room":"dev","joined":true,"seq":7})");
    for (const auto& line : {event, dm, membership}) {
        CAPTURE(line);
        CHECK(chatctl_md.find(line + "\n") != std::string::npos);
    }
}

TEST_CASE("json forms: replies keep the documented key order") {
    CHECK(json_text(join_reply_json(
              JoinReply{.rid = 9, .status = 0, .room = "lobby", .seq = 4, .joined = false})) ==
          R"({"room":"lobby","seq":4,"joined":false})");
    CHECK(json_text(leave_reply_json(LeaveReply{.room = "lobby", .seq = 5})) ==
          R"({"room":"lobby","seq":5})");
    CHECK(json_text(send_reply_json(SendReply{.room = "lobby", .first_seq = 6, .last_seq = 8})) ==
          R"({"room":"lobby","first_seq":6,"last_seq":8})");
    CHECK(json_text(dm_reply_json(DmReply{.to = "bob", .id = 3, .delivered = true})) ==
          R"({"to":"bob","id":3,"delivered":true})");
    CHECK(json_text(who_reply_json(WhoReply{.room = "lobby", .members = {"al\\ice", "bob"}})) ==
          R"({"room":"lobby","members":["al\\ice","bob"]})");
    CHECK(json_text(who_reply_json(WhoReply{.room = "empty"})) == R"({"room":"empty","members":[]})");
    CHECK(json_text(
              rooms_json({RoomInfo{.room = "dev", .members = 1}, RoomInfo{.room = "lobby", .members = 2}})) ==
          R"({"rooms":[{"room":"dev","members":1},{"room":"lobby","members":2}]})");
    CHECK(json_text(rooms_json({})) == R"({"rooms":[]})");
    // The largest counter a reply can carry is written as an integer, not as a double.
    CHECK(json_text(room_info_json(RoomInfo{.room = "big", .members = UINT64_MAX})) ==
          R"({"room":"big","members":18446744073709551615})");
}

TEST_CASE("json forms: STATUS with workers and counters, and with none") {
    const StatusReply full{
        .nicks = 3,
        .rooms = 2,
        .listeners = 1,
        .inboxed = 4,
        .workers = {WorkerInfo{
                        .id = "w1", .host = "h", .pid = 7, .rooms = 2, .served = 9, .last_heartbeat_ms = 11},
                    WorkerInfo{.id = "w2", .host = "g"}},
        .requests = 40,
        .dropped = {{"seq_break", 2}, {"malformed", 1}},
        .retried = 5,
        .moved = 6,
        .boot = "b00t",
        .uptime_ms = 3723500,
        .refused = {{"rate_limited", 2}}};
    CHECK(
        json_text(status_reply_json(full)) ==
        R"({"nicks":3,"rooms":2,"listeners":1,"inboxed":4,"requests":40,"retried":5,"moved":6,)"
        R"("boot":"b00t","uptime_ms":3723500,"workers":[{"id":"w1","host":"h","pid":7,"rooms":2,"served":9,)"
        R"("last_heartbeat_ms":11},{"id":"w2","host":"g","pid":0,"rooms":0,"served":0,"last_heartbeat_ms":0}],)"
        R"("dropped":{"malformed":1,"seq_break":2},"refused":{"rate_limited":2}})");
    // Empty lists and maps are [] and {}, never null.
    CHECK(json_text(status_reply_json(StatusReply{})) ==
          R"({"nicks":0,"rooms":0,"listeners":0,"inboxed":0,"requests":0,"retried":0,"moved":0,)"
          R"("boot":"","uptime_ms":0,"workers":[],"dropped":{},"refused":{}})");
}

TEST_CASE("json_text escapes quotes, backslashes and every control character") {
    CHECK(quoted("") == R"("")");
    CHECK(quoted("plain") == R"("plain")");
    CHECK(quoted(R"(say "hi")") == R"("say \"hi\"")");
    CHECK(quoted(R"(C:\path\)") == R"("C:\\path\\")");
    CHECK(quoted("a\nb\tc\rd") == R"("a\nb\tc\rd")");
    CHECK(quoted("\b\f") == R"("\b\f")");
    CHECK(quoted(std::string("\0x", 2)) == R"("\u0000x")");
    CHECK(quoted("\x01\x1f") == R"("\u0001\u001f")");
    for (int c = 0; c < 0x20; ++c) {
        std::string q = quoted(std::string(1, static_cast<char>(c)));
        CAPTURE(c);
        CHECK(q.size() > 3);
        CHECK(q[1] == '\\');
    }
    // DEL needs no escape in JSON (RFC 8259 escapes only U+0000..U+001F); it reads back as itself.
    CHECK(ordered_json::parse(quoted("del\x7f")) == "del\x7f");
    CHECK(text_line("a \"b\"\n") ==
          R"({"type":"dm","id":1,"from":"bob","to":"alice","text":"a \"b\"\n","ts":5})");
}

TEST_CASE("json_text passes valid UTF-8 through and replaces ill-formed sequences with U+FFFD") {
    CHECK(quoted("héllo") == "\"héllo\"");
    CHECK(quoted("日本語") == "\"日本語\"");
    CHECK(quoted("\xF0\x9F\x98\x80") == "\"\xF0\x9F\x98\x80\"");  // U+1F600, 4 bytes
    CHECK(quoted("\xEF\xBF\xBD") == "\"" + kFffd + "\"");         // U+FFFD itself is valid
    CHECK(quoted("a\xFFz") == "\"a" + kFffd + "z\"");
    CHECK(quoted("\xC3") == "\"" + kFffd + "\"");                                      // truncated at the end
    CHECK(quoted("\xE2\x82z") == "\"" + kFffd + "z\"");                                // truncated before z
    CHECK(quoted("\xC0\xAF") == "\"" + kFffd + kFffd + "\"");                          // overlong '/'
    CHECK(quoted("\xED\xA0\x80") == "\"" + kFffd + kFffd + kFffd + "\"");              // UTF-16 surrogate
    CHECK(quoted("\xF4\x90\x80\x80") == "\"" + kFffd + kFffd + kFffd + kFffd + "\"");  // above U+10FFFF
    CHECK(quoted("\x80\x80") == "\"" + kFffd + kFffd + "\"");  // lone continuation bytes
}

TEST_CASE("json forms: odd bytes from a peer in any field, key or list still make one valid JSON line") {
    const std::string bad = "x\xFF\"\n\xC3";
    const std::string line =
        json_text(event_json(Event{.room = bad, .seq = 1, .kind = bad, .nick = bad, .text = bad, .ts = 2}));
    CHECK(line == R"({"type":"event","room":"x)" + kFffd + R"(\"\n)" + kFffd + R"(","seq":1,"kind":"x)" +
                      kFffd + R"(\"\n)" + kFffd + R"(","nick":"x)" + kFffd + R"(\"\n)" + kFffd +
                      R"(","text":"x)" + kFffd + R"(\"\n)" + kFffd + R"(","ts":2})");
    CHECK(line.find('\n') == std::string::npos);
    CHECK(ordered_json::parse(line)["text"] == "x" + kFffd + "\"\n" + kFffd);

    const std::string status = json_text(status_reply_json(
        StatusReply{.workers = {WorkerInfo{.id = bad, .host = bad}}, .dropped = {{bad, 1}}, .boot = bad}));
    auto parsed = ordered_json::parse(status);
    CHECK(parsed["dropped"].contains("x" + kFffd + "\"\n" + kFffd));
    CHECK(parsed["workers"][0]["host"] == "x" + kFffd + "\"\n" + kFffd);
    CHECK(ordered_json::parse(
              json_text(who_reply_json(WhoReply{.room = "r", .members = {bad, "\xFE"}})))["members"] ==
          ordered_json::array({"x" + kFffd + "\"\n" + kFffd, kFffd}));
}

TEST_CASE("json_text never throws and always reads back: random bytes") {
    // Bytes that start, continue or break UTF-8 sequences, and ones JSON escapes.
    const unsigned char alphabet[] = {'a',  '"',  '\\', 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC2, 0xC0,
                                      0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA0, 0x9F, 0x8F};
    std::mt19937 rng(20240601);
    std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 1), length(0, 12);
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        for (std::size_t n = length(rng); n > 0; --n) s.push_back(static_cast<char>(alphabet[pick(rng)]));
        std::string line;
        REQUIRE_NOTHROW(line = text_line(s));
        CAPTURE(line);
        ordered_json back;
        REQUIRE_NOTHROW(back = ordered_json::parse(line));  // parse() refuses ill-formed UTF-8
        // Text that was valid UTF-8 comes back unchanged.
        bool valid = true;
        try {
            (void)ordered_json(s).dump();  // the strict handler: throws on ill-formed UTF-8
        } catch (const ordered_json::type_error&) {
            valid = false;
        }
        if (valid) CHECK(back["text"] == s);
    }
}
