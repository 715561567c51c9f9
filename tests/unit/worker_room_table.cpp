// RoomTable against the rules of docs/protocol.md ("JOIN / LEAVE", "SEND", "WHO / ROOMS / HISTORY").
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/event_kind.hpp"
#include "worker/room_table.hpp"
#include "common/status.hpp"

using namespace chatbus;

namespace {

constexpr auto ok = static_cast<std::uint64_t>(Status::ok);
std::uint64_t code(Status s) {
    return static_cast<std::uint64_t>(s);
}

Join join(std::string nick, std::string room, std::uint64_t rid = 1) {
    return {rid, std::move(nick), "", std::move(room)};
}
Leave leave(std::string nick, std::string room, std::uint64_t rid = 1) {
    return {rid, std::move(nick), "", std::move(room)};
}
Send send(std::string nick, std::string room, std::vector<std::string> texts, std::uint64_t rid = 1) {
    return {rid, std::move(nick), "", std::move(room), std::move(texts)};
}

}  // namespace

TEST_CASE("join, send, leave get consecutive seqs across kinds and publish matching events") {
    RoomTable t;
    std::vector<Event> ev;
    auto j = t.join(join("Alice", "lobby", 7), ev);
    CHECK(j.rid == 7);
    CHECK(j.status == ok);
    CHECK(j.error.empty());
    CHECK(j.room == "lobby");
    CHECK(j.joined);
    CHECK(j.seq == 1);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == event_kind::join);
    CHECK(ev[0].nick == "Alice");
    CHECK(ev[0].room == "lobby");
    CHECK(ev[0].seq == 1);
    CHECK(ev[0].text.empty());
    CHECK(ev[0].ts > 0);

    CHECK(t.join(join("bob", "lobby"), ev).seq == 2);
    auto s = t.send(send("alice", "lobby", {"hi"}), ev);
    CHECK(s.status == ok);
    CHECK(s.first_seq == 3);
    CHECK(s.last_seq == 3);
    auto l = t.leave(leave("ALICE", "lobby"), ev);
    CHECK(l.status == ok);
    CHECK(l.room == "lobby");
    CHECK(l.seq == 4);
    REQUIRE(ev.size() == 4);
    // The member's joined spelling is kept for every later event, whatever case the request used.
    CHECK(ev[2].nick == "Alice");
    CHECK(ev[2].text == "hi");
    CHECK(ev[2].kind == event_kind::message);
    CHECK(ev[3].kind == event_kind::leave);
    CHECK(ev[3].nick == "Alice");
    for (std::size_t i = 0; i < ev.size(); ++i) CHECK(ev[i].seq == i + 1);
}

TEST_CASE("joining a room already joined succeeds with joined false, seq 0 and no event") {
    RoomTable t;
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    ev.clear();
    auto j = t.join(join("ALICE", "Lobby", 9), ev);
    CHECK(j.status == ok);
    CHECK(j.rid == 9);
    CHECK_FALSE(j.joined);
    CHECK(j.seq == 0);
    CHECK(j.room == "lobby");
    CHECK(ev.empty());
    CHECK(t.find("lobby")->last_seq() == 1);
}

TEST_CASE("send and leave by a non-member are not_member and publish nothing") {
    RoomTable t;
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    ev.clear();
    auto s = t.send(send("bob", "lobby", {"hi"}), ev);
    CHECK(s.status == code(Status::not_member));
    CHECK(s.error.find("not a member") != std::string::npos);
    CHECK(t.leave(leave("bob", "lobby"), ev).status == code(Status::not_member));
    // A room that never existed has no members either.
    CHECK(t.leave(leave("bob", "nowhere"), ev).status == code(Status::not_member));
    CHECK(ev.empty());
    CHECK(t.find("lobby")->last_seq() == 1);
    CHECK(t.find("nowhere") == nullptr);
}

TEST_CASE("invalid room names are invalid_room for every request and create nothing") {
    RoomTable t;
    std::vector<Event> ev;
    for (const std::string& bad : std::vector<std::string>{"", "-lead", "has space", "slash/",
                                                           std::string(65, 'a'), std::string("nul\0x", 5)}) {
        CAPTURE(bad);
        CHECK(t.join(join("alice", bad), ev).status == code(Status::invalid_room));
        CHECK(t.leave(leave("alice", bad), ev).status == code(Status::invalid_room));
        CHECK(t.send(send("alice", bad, {"x"}), ev).status == code(Status::invalid_room));
        CHECK(t.who(Who{1, bad}).status == code(Status::invalid_room));
        CHECK(t.history(History{1, bad, 0, 0}).status == code(Status::invalid_room));
    }
    CHECK(ev.empty());
    CHECK(t.room_count() == 0);
    CHECK(t.join(join("alice", std::string(64, 'a')), ev).status == ok);
}

TEST_CASE("room names fold to lower case in replies, events and lookups") {
    RoomTable t;
    std::vector<Event> ev;
    auto j = t.join(join("alice", "MyRoom.1"), ev);
    CHECK(j.room == "myroom.1");
    CHECK(ev.at(0).room == "myroom.1");
    CHECK(t.send(send("alice", "MYROOM.1", {"x"}), ev).room == "myroom.1");
    auto w = t.who(Who{1, "myRoom.1"});
    CHECK(w.status == ok);
    CHECK(w.room == "myroom.1");
    CHECK(t.room_count() == 1);
}

TEST_CASE("an invalid text anywhere in the batch refuses it all and publishes nothing") {
    RoomTable t({.history = 1000, .max_text = 10, .max_batch = 64});
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    ev.clear();
    const std::vector<std::string> bad{"", "\xff\xfe", "\xc0\xaf", "bell\a", "del\x7f"};
    for (const auto& b : bad) {
        CAPTURE(b);
        auto s = t.send(send("alice", "lobby", {"fine", b, "also fine"}), ev);
        CHECK(s.status == code(Status::invalid_text));
        CHECK(s.error.find("text 2") != std::string::npos);
    }
    // Over max_text has its own status, so a client can tell "shorten it" from "fix it".
    auto s = t.send(send("alice", "lobby", {"fine", std::string(11, 'x')}), ev);
    CHECK(s.status == code(Status::text_too_long));
    CHECK(s.error.find("text 2") != std::string::npos);
    CHECK(t.send(send("alice", "lobby", {}), ev).status == code(Status::invalid_text));
    CHECK(ev.empty());
    CHECK(t.find("lobby")->last_seq() == 1);
    // The limit is inclusive, and newline and tab are allowed.
    CHECK(t.send(send("alice", "lobby", {std::string(10, 'x'), "a\tb\nc", "\xc3\xa9t\xc3\xa9"}), ev).status ==
          ok);
    t.set_max_text(20);
    CHECK(t.send(send("alice", "lobby", {std::string(20, 'y')}), ev).status == ok);
}

TEST_CASE("a batch of three gets three consecutive seqs, events in order") {
    RoomTable t;
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    t.join(join("bob", "lobby"), ev);
    ev.clear();
    auto s = t.send(send("bob", "lobby", {"one", "two", "three"}, 42), ev);
    CHECK(s.status == ok);
    CHECK(s.rid == 42);
    CHECK(s.first_seq == 3);
    CHECK(s.last_seq == 5);
    REQUIRE(ev.size() == 3);
    CHECK(ev[0].text == "one");
    CHECK(ev[1].text == "two");
    CHECK(ev[2].text == "three");
    CHECK(ev[2].seq == 5);
}

TEST_CASE("more than max_batch texts is batch_too_large") {
    RoomTable t;
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    ev.clear();
    std::vector<std::string> texts(64, "x");
    CHECK(t.send(send("alice", "lobby", texts), ev).status == ok);
    CHECK(ev.size() == 64);
    ev.clear();
    texts.push_back("x");
    CHECK(t.send(send("alice", "lobby", texts), ev).status == code(Status::batch_too_large));
    CHECK(ev.empty());
}

TEST_CASE("send to a room that does not exist is no_such_room") {
    RoomTable t;
    std::vector<Event> ev;
    CHECK(t.send(send("alice", "ghost", {"x"}), ev).status == code(Status::no_such_room));
    CHECK(t.room_count() == 0);
}

TEST_CASE("who and history of a room that never existed are no_such_room") {
    RoomTable t;
    auto w = t.who(Who{3, "ghost"});
    CHECK(w.status == code(Status::no_such_room));
    CHECK(w.rid == 3);
    CHECK(w.error == "no such room");
    CHECK(t.history(History{1, "ghost", 0, 0}).status == code(Status::no_such_room));
}

TEST_CASE("who lists members as spelled at join / an emptied room stays with its history") {
    RoomTable t;
    std::vector<Event> ev;
    t.join(join("Zed", "lobby"), ev);
    t.join(join("alice", "lobby"), ev);
    t.join(join("Bob", "lobby"), ev);
    CHECK(t.who(Who{1, "lobby"}).members == std::vector<std::string>{"alice", "Bob", "Zed"});
    for (auto n : {"zed", "ALICE", "bob"}) CHECK(t.leave(leave(n, "lobby"), ev).status == ok);
    auto w = t.who(Who{1, "lobby"});
    CHECK(w.status == ok);
    CHECK(w.members.empty());
    CHECK(t.history(History{1, "lobby", 0, 0}).events.size() == 6);
    // The seq counter survives the empty spell: no reuse of seqs.
    CHECK(t.join(join("alice", "lobby"), ev).seq == 7);
}

TEST_CASE("history is bounded by the limit and filtered by since, then last") {
    RoomTable t({.history = 5});
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);                                                 // seq 1
    t.send(send("alice", "lobby", {"a", "b", "c", "d", "e", "f", "g", "h", "i"}), ev);  // seqs 2..10
    auto seqs = [&](std::uint64_t last, std::uint64_t since) {
        auto h = t.history(History{1, "lobby", last, since});
        REQUIRE(h.status == ok);
        std::vector<std::uint64_t> out;
        for (const auto& e : h.events) out.push_back(e.seq);
        return out;
    };
    using V = std::vector<std::uint64_t>;
    CHECK(seqs(0, 0) == V{6, 7, 8, 9, 10});
    CHECK(seqs(2, 0) == V{9, 10});
    CHECK(seqs(0, 8) == V{9, 10});
    CHECK(seqs(0, 3) == V{6, 7, 8, 9, 10});
    CHECK(seqs(1, 7) == V{10});
    CHECK(seqs(10, 7) == V{8, 9, 10});
    CHECK(seqs(0, 10).empty());
    CHECK(seqs(3, 99).empty());
    auto h = t.history(History{1, "LOBBY", 1, 0});
    CHECK(h.room == "lobby");
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].text == "i");
    CHECK(h.events[0].kind == event_kind::message);
}

TEST_CASE("a history limit of zero keeps nothing but still numbers events") {
    RoomTable t({.history = 0});
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    CHECK(t.send(send("alice", "lobby", {"a", "b"}), ev).last_seq == 3);
    CHECK(ev.size() == 3);
    CHECK(t.history(History{1, "lobby", 0, 0}).events.empty());
}

namespace {

Event event(std::string room, std::uint64_t seq, std::string kind, std::string nick, std::string text = "") {
    return {std::move(room), seq, std::move(kind), std::move(nick), std::move(text), 1000 + seq};
}

}  // namespace

TEST_CASE("import creates a room with exactly the state given / requests continue from it") {
    RoomTable t;
    WState st{"lobby",
              7,
              {"Alice", "bob"},
              {event("lobby", 6, "join", "bob"), event("lobby", 7, "message", "Alice", "hi")}};
    REQUIRE(t.import(st));
    CHECK(t.room_count() == 1);
    auto w = t.who(Who{1, "lobby"});
    CHECK(w.status == ok);
    CHECK(w.members == std::vector<std::string>{"Alice", "bob"});
    auto h = t.history(History{1, "lobby", 0, 0});
    REQUIRE(h.events.size() == 2);
    CHECK(h.events[0] == st.history[0]);
    CHECK(h.events[1] == st.history[1]);

    // Members are keyed by folded nick: another case finds them and events keep the registered spelling.
    std::vector<Event> ev;
    auto s = t.send(send("ALICE", "lobby", {"again"}), ev);
    CHECK(s.status == ok);
    CHECK(s.first_seq == 8);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].nick == "Alice");
    CHECK(t.join(join("BOB", "lobby"), ev).joined == false);
    CHECK(t.leave(leave("bob", "lobby"), ev).seq == 9);
    CHECK(t.history(History{1, "lobby", 0, 0}).events.size() == 4);
}

TEST_CASE("import replaces what the table had for the room, and only that room") {
    RoomTable t;
    std::vector<Event> ev;
    t.join(join("alice", "lobby"), ev);
    t.send(send("alice", "lobby", {"a", "b", "c"}), ev);
    t.join(join("carol", "other"), ev);
    REQUIRE(t.import(WState{"Lobby", 2, {"zed"}, {event("lobby", 2, "join", "zed")}}));
    CHECK(t.room_count() == 2);
    CHECK(t.find("lobby")->last_seq() == 2);
    CHECK(t.who(Who{1, "lobby"}).members == std::vector<std::string>{"zed"});
    auto h = t.history(History{1, "lobby", 0, 0});
    REQUIRE(h.events.size() == 1);
    CHECK(h.events[0].nick == "zed");
    CHECK(t.send(send("alice", "lobby", {"x"}), ev).status == code(Status::not_member));
    CHECK(t.who(Who{1, "other"}).members == std::vector<std::string>{"carol"});
    // An empty state is a room too: no members, no history, seq continues from the given value.
    REQUIRE(t.import(WState{"other", 5, {}, {}}));
    CHECK(t.who(Who{1, "other"}).members.empty());
    CHECK(t.join(join("dave", "other"), ev).seq == 6);
}

TEST_CASE("import bounds the history by the limit and refuses what would break seqs") {
    RoomTable t({.history = 3});
    std::vector<Event> hist;
    for (std::uint64_t s = 1; s <= 6; ++s) hist.push_back(event("room", s, "message", "alice", "t"));
    REQUIRE(t.import(WState{"room", 6, {"alice"}, hist}));
    auto seqs = [&] {
        std::vector<std::uint64_t> out;
        for (const auto& e : t.history(History{1, "room", 0, 0}).events) out.push_back(e.seq);
        return out;
    };
    CHECK(seqs() == std::vector<std::uint64_t>{4, 5, 6});

    // Events past the state's seq, out of order or repeated are left out; the room field is made this room's.
    REQUIRE(t.import(WState{"room",
                            4,
                            {"alice", "ALICE", "bad nick"},
                            {event("room", 2, "join", "alice"), event("room", 1, "join", "x"),
                             event("elsewhere", 3, "message", "alice"), event("room", 3, "message", "alice"),
                             event("room", 5, "message", "alice")}}));
    CHECK(seqs() == std::vector<std::uint64_t>{2, 3});
    CHECK(t.history(History{1, "room", 0, 0}).events[1].room == "room");
    CHECK(t.who(Who{1, "room"}).members == std::vector<std::string>{"alice"});
    std::vector<Event> ev;
    CHECK(t.send(send("alice", "room", {"next"}), ev).first_seq == 5);

    CHECK_FALSE(t.import(WState{"bad room", 1, {}, {}}));
    CHECK(t.room_count() == 1);
}

TEST_CASE("export_state gives back what import took, and what requests added") {
    RoomTable t;
    CHECK_FALSE(t.export_state("lobby"));
    std::vector<Event> ev;
    t.join(join("Bob", "lobby"), ev);
    t.join(join("alice", "lobby"), ev);
    t.send(send("bob", "lobby", {"hi", "there"}), ev);
    auto st = t.export_state("LOBBY");
    REQUIRE(st);
    CHECK(st->room == "lobby");
    CHECK(st->seq == 4);
    CHECK(st->members == std::vector<std::string>{"alice", "Bob"});
    CHECK(st->history == ev);

    RoomTable other;
    REQUIRE(other.import(*st));
    CHECK(other.export_state("lobby") == st);

    // A history limit of zero exports no events, but the seq.
    RoomTable none({.history = 0});
    none.join(join("alice", "r"), ev);
    auto empty = none.export_state("r");
    REQUIRE(empty);
    CHECK(empty->seq == 1);
    CHECK(empty->history.empty());
}

TEST_CASE("release drops a room entirely / room_names lists what is held, sorted") {
    RoomTable t;
    std::vector<Event> ev;
    for (auto r : {"zeta", "Alpha", "mid"}) t.join(join("alice", r), ev);
    CHECK(t.room_names() == std::vector<std::string>{"alpha", "mid", "zeta"});
    CHECK(t.release("MID"));
    CHECK_FALSE(t.release("mid"));
    CHECK_FALSE(t.release("never"));
    CHECK(t.room_names() == std::vector<std::string>{"alpha", "zeta"});
    CHECK(t.who(Who{1, "mid"}).status == code(Status::no_such_room));
    // Released means forgotten: joining again starts a new room at seq 1.
    CHECK(t.join(join("alice", "mid"), ev).seq == 1);
    t.clear();
    CHECK(t.room_count() == 0);
    CHECK(t.room_names().empty());
}
