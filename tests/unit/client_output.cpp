#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "common/json_forms.hpp"
#include "common/messages.hpp"

using namespace chatbus;
using namespace chatbus::cli;
using nlohmann::ordered_json;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
// What a hostile or broken peer might put in any string: a byte that is never UTF-8, a quote, a newline, a
// control character and a sequence cut short.
const std::string kOdd = std::string("a\xFF\"\n\x01", 5) + "\xE2\x82";
const std::string kOddJson = "a" + kFffd + R"(\"\n\u0001)" + kFffd;  // kOdd as json_text writes it

// Each line of `s` is one JSON object (parse() refuses ill-formed UTF-8 and anything after the object).
std::vector<ordered_json> json_lines(const std::string& s) {
    std::vector<ordered_json> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) out.push_back(ordered_json::parse(line));
    return out;
}

}  // namespace

TEST_CASE("--json results: \"ok\":true first, then the fields in order") {
    std::ostringstream out, err;
    Output o(true, out, err);
    o.result(join_reply_json(JoinReply{.room = "lobby", .seq = 4, .joined = true}), "human text");
    o.result(ordered_json::object(), "");
    o.result(ordered_json{{"commands", std::vector<std::string>{"/help", "/quit"}}}, "");
    CHECK(out.str() == R"({"ok":true,"room":"lobby","seq":4,"joined":true})"
                       "\n"
                       R"({"ok":true})"
                       "\n"
                       R"({"ok":true,"commands":["/help","/quit"]})"
                       "\n");
    CHECK(err.str().empty());

    std::ostringstream hout, herr;
    Output human(false, hout, herr);
    human.result(join_reply_json(JoinReply{.room = "lobby", .seq = 4, .joined = true}),
                 "alice joined lobby (#4)");
    CHECK(hout.str() == "alice joined lobby (#4)\n");
}

TEST_CASE("--json errors and notices: fixed keys, odd bytes in the message still one valid line") {
    std::ostringstream out, err;
    Output o(true, out, err);
    o.error("no_such_room", "no such room");
    o.error("bad_request", kOdd);  // a broker's error text is a peer's bytes too
    o.notice("lost contact " + kOdd);
    CHECK(out.str() == R"({"ok":false,"status":"no_such_room","error":"no such room"})"
                       "\n"
                       R"({"ok":false,"status":"bad_request","error":")" +
                           kOddJson + "\"}\n");
    CHECK(err.str() == R"({"type":"notice","text":"lost contact )" + kOddJson + "\"}\n");
    CHECK(json_lines(out.str()).size() == 2);
    CHECK(json_lines(err.str()).size() == 1);
}

TEST_CASE("--json listener lines: events, DMs, membership, gap, ready with a peer's odd bytes") {
    std::ostringstream out, err;
    Output o(true, out, err);
    o.ready(kOdd, {"lobby", kOdd});
    o.event(Event{.room = "lobby", .seq = 3, .kind = "message", .nick = kOdd, .text = kOdd, .ts = 7});
    o.event(Event{.room = kOdd, .seq = 4, .kind = kOdd, .nick = "bob", .text = "ok", .ts = 8});
    o.dm(DmDeliver{.id = 2, .from = kOdd, .to = "alice", .text = kOdd, .ts = 9});
    o.membership(Membership{.nick = "alice", .room = kOdd, .joined = false, .seq = 5});
    o.gap(kOdd, 8, 120, 113);
    const std::string expected =
        R"({"type":"ready","nick":")" + kOddJson + R"(","rooms":["lobby",")" + kOddJson + "\"]}\n" +
        R"({"type":"event","room":"lobby","seq":3,"kind":"message","nick":")" + kOddJson + R"(","text":")" +
        kOddJson + "\",\"ts\":7}\n" + R"({"type":"event","room":")" + kOddJson + R"(","seq":4,"kind":")" +
        kOddJson +
        R"(","nick":"bob","text":"ok","ts":8})"
        "\n" +
        R"({"type":"dm","id":2,"from":")" + kOddJson + R"(","to":"alice","text":")" + kOddJson +
        "\",\"ts\":9}\n" + R"({"type":"membership","room":")" + kOddJson +
        R"(","joined":false,"seq":5})"
        "\n" +
        R"({"type":"gap","room":")" + kOddJson +
        R"(","from":8,"to":120,"missed":113,"total":113})"
        "\n";
    CHECK(out.str() == expected);
    const auto lines = json_lines(out.str());
    REQUIRE(lines.size() == 6);
    CHECK(lines[1]["text"] == "a" + kFffd + "\"\n\x01" + kFffd);
    CHECK(err.str().empty());
}

TEST_CASE("--json status: the broker's counters under any names, as one valid line") {
    std::ostringstream out, err;
    Output o(true, out, err);
    o.result(status_reply_json(StatusReply{.workers = {WorkerInfo{.id = kOdd, .host = "h"}},
                                           .dropped = {{kOdd, 1}},
                                           .boot = "b",
                                           .refused = {{"rate_limited", 2}}}),
             "");
    CHECK(out.str() == R"({"ok":true,"nicks":0,"rooms":0,"listeners":0,"inboxed":0,"requests":0,"retried":0,)"
                       R"("moved":0,"boot":"b","uptime_ms":0,"workers":[{"id":")" +
                           kOddJson +
                           R"(","host":"h","pid":0,"rooms":0,"served":0,"last_heartbeat_ms":0}],)" +
                           R"("dropped":{")" + kOddJson + R"(":1},"refused":{"rate_limited":2}})" + "\n");
    CHECK(json_lines(out.str()).size() == 1);
}
