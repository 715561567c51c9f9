#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <sstream>
#include <string>

#include "cli/chat_input.hpp"
#include "common/messages.hpp"
#include "cli/output.hpp"

using namespace chatbus;
using namespace chatbus::cli;
using K = ChatLine::Kind;

TEST_CASE("chat input: plain lines are said, // escapes a leading slash, empty lines are nothing") {
    CHECK(parse_chat_line("").kind == K::none);
    CHECK(parse_chat_line("\r").kind == K::none);
    auto say = parse_chat_line("hello there\r");
    CHECK(say.kind == K::say);
    CHECK(say.text == "hello there");
    auto slash = parse_chat_line("//etc/passwd is a path");
    CHECK(slash.kind == K::say);
    CHECK(slash.text == "/etc/passwd is a path");
    CHECK(parse_chat_line("  leading spaces kept").text == "  leading spaces kept");
}

TEST_CASE("chat input: every command and its arguments") {
    CHECK(parse_chat_line("/quit").kind == K::quit);
    CHECK(parse_chat_line("/QUIT").kind == K::quit);  // command names are case-insensitive
    CHECK(parse_chat_line("/help").kind == K::help);
    CHECK(parse_chat_line("/rooms").kind == K::rooms);

    auto join = parse_chat_line("/join  Dev.Room ");
    CHECK(join.kind == K::join);
    CHECK(join.target == "Dev.Room");  // the broker folds it
    auto leave = parse_chat_line("/leave");
    CHECK(leave.kind == K::leave);
    CHECK(leave.target.empty());
    CHECK(parse_chat_line("/leave dev").target == "dev");
    CHECK(parse_chat_line("/who").kind == K::who);
    CHECK(parse_chat_line("/who").target.empty());
    CHECK(parse_chat_line("/who lobby").target == "lobby");

    auto me = parse_chat_line("/me  waves at everyone");
    CHECK(me.kind == K::action);
    CHECK(me.text == "/me waves at everyone");
    CHECK(action_of(me.text) == "waves at everyone");

    auto msg = parse_chat_line("/msg bob  psst, now");
    CHECK(msg.kind == K::msg);
    CHECK(msg.target == "bob");
    CHECK(msg.text == "psst, now");

    auto h = parse_chat_line("/history");
    CHECK(h.kind == K::history);
    CHECK(h.count == kChatHistoryDefault);
    CHECK(parse_chat_line("/history 5").count == 5);
    CHECK(parse_chat_line("/history 1000").count == 1000);
}

TEST_CASE("chat input: usage errors and unknown commands are one-line errors, never something to send") {
    struct Case {
        const char* line;
        const char* error;
    };
    const Case cases[] = {
        {"/join", "usage: /join ROOM"},
        {"/join a b", "usage: /join ROOM"},
        {"/leave a b", "usage: /leave [ROOM]"},
        {"/who a b", "usage: /who [ROOM]"},
        {"/me", "usage: /me ACTION"},
        {"/me   ", "usage: /me ACTION"},
        {"/msg", "usage: /msg NICK TEXT"},
        {"/msg bob", "usage: /msg NICK TEXT"},
        {"/history 0", "usage: /history [N] (N from 1 to 1000)"},
        {"/history 1001", "usage: /history [N] (N from 1 to 1000)"},
        {"/history ten", "usage: /history [N] (N from 1 to 1000)"},
        {"/history 5x", "usage: /history [N] (N from 1 to 1000)"},
        {"/quit now", "usage: /quit (takes no arguments)"},
        {"/rooms all", "usage: /rooms (takes no arguments)"},
        {"/nick carol", "unknown command /nick (/help lists the commands; // starts a line with /)"},
        {"/", "unknown command / (/help lists the commands; // starts a line with /)"},
        {"/msgbob hi", "unknown command /msgbob (/help lists the commands; // starts a line with /)"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.line);
        auto r = parse_chat_line(c.line);
        CHECK(r.kind == K::error);
        CHECK(r.error == c.error);
        CHECK(r.error.find('\n') == std::string::npos);
    }
}

TEST_CASE("chat input: /help lists every command the parser knows") {
    std::string all;
    for (const auto& l : chat_help()) all += l + "\n";
    for (const char* cmd :
         {"/me ", "/msg ", "/join ", "/leave ", "/who ", "/rooms", "/history ", "/help", "/quit"}) {
        CAPTURE(cmd);
        CHECK(all.find(cmd) != std::string::npos);
        // and the parser does not call it unknown
        CHECK(parse_chat_line(std::string(cmd) + (std::string(cmd).ends_with(' ') ? "x" : ""))
                  .error.find("unknown") == std::string::npos);
    }
}

TEST_CASE("chat input: action texts") {
    CHECK(action_of("/me waves") == "waves");
    CHECK(!action_of("/mewaves"));
    CHECK(!action_of("hello /me waves"));
    CHECK(!action_of("/me"));
}

TEST_CASE("chat input: rows a typed line's echo takes") {
    CHECK(echo_rows("", 80) == 1);
    CHECK(echo_rows("hello", 80) == 1);
    CHECK(echo_rows(std::string(80, 'x'), 80) == 1);
    CHECK(echo_rows(std::string(81, 'x'), 80) == 2);
    CHECK(echo_rows(std::string(161, 'x'), 80) == 3);
    // 80 two-byte characters are 80 columns, not 160
    std::string umlauts;
    for (int i = 0; i < 80; ++i) umlauts += "\xc3\xa4";
    CHECK(echo_rows(umlauts, 80) == 1);
    CHECK(echo_rows("abc", 0) == 1);
}

TEST_CASE("chat lines: local time in front, actions as * NICK ACTION, listen keeps #seq") {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    CHECK(clock_of(0) == "00:00");
    CHECK(clock_of((13 * 3600 + 7 * 60 + 59) * 1000ULL + 999) == "13:07");

    const Event said{.room = "lobby", .seq = 3, .kind = "message", .nick = "bob", .text = "hi", .ts = 60000};
    const Event acted{
        .room = "lobby", .seq = 4, .kind = "message", .nick = "bob", .text = "/me waves", .ts = 60000};
    const Event joined{.room = "lobby", .seq = 5, .kind = "join", .nick = "carol", .ts = 120000};
    const DmDeliver dm{.id = 2, .from = "bob", .to = "alice", .text = "psst", .ts = 180000};

    std::ostringstream out, err;
    Output chat(false, out, err);
    chat.set_chat_lines(true);
    chat.event(said);
    chat.event(acted);
    chat.event(joined);
    chat.dm(dm);
    CHECK(out.str() ==
          "00:01 [lobby] bob: hi\n00:01 [lobby] * bob waves\n00:02 [lobby] * carol joined\n"
          "00:03 [dm #2 from bob] psst\n");

    std::ostringstream lout, lerr;
    Output listen(false, lout, lerr);
    listen.event(said);
    listen.event(acted);
    CHECK(lout.str() == "[lobby #3] bob: hi\n[lobby #4] * bob waves\n");

    std::ostringstream jout, jerr;
    Output json(true, jout, jerr);
    json.set_chat_lines(true);
    json.event(acted);  // JSON keeps the text as sent: the convention is the reader's
    CHECK(jout.str().find(R"("text":"/me waves")") != std::string::npos);
    json.erase_rows(2);
    CHECK(jout.str().find('\x1b') == std::string::npos);

    std::ostringstream tout, terr;
    Output term(false, tout, terr);
    term.erase_rows(2);
    CHECK(tout.str() == "\x1b[A\x1b[2K\x1b[A\x1b[2K\r");
}
