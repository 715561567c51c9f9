// RoomRouter with no sockets: which worker gets a room request, handover of the room's copy when its owner
// changes, retries of a dead worker's requests, timeouts, draining, and parking after a restart.
#include <doctest/doctest.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/codec.hpp"
#include "common/rendezvous.hpp"
#include "broker/room_router.hpp"

using namespace chatbus;

namespace {

// Everything the router sends, in order, as "worker: TYPE detail" lines.
struct RecordingOutbox : RouterOutbox {
    std::vector<std::string> sent;
    std::vector<std::pair<std::uint64_t, Status>> failed;  // rid, status
    std::vector<std::string> unreachable;                  // forwards to these fail

    bool forward(const std::string& worker, std::uint64_t bid, std::string_view) override {
        if (std::find(unreachable.begin(), unreachable.end(), worker) != unreachable.end()) return false;
        sent.push_back(worker + ": REQUEST " + std::to_string(bid));
        return true;
    }
    void to_worker(const std::string& worker, std::string_view frame) override {
        Decoded d;
        REQUIRE(decode_sized(frame, d) == Status::ok);
        std::string line = worker + ": " + std::string(msg_type_name(d.type));
        if (d.type == MsgType::w_state) {
            WState s;
            REQUIRE(body_as(d, s) == Status::ok);
            line += " " + s.room + " seq " + std::to_string(s.seq);
        } else if (d.type == MsgType::w_release) {
            line += " " + peek_string(d, "room");
        } else if (d.type == MsgType::w_disconnect) {
            line += " " + peek_string(d, "reason");
        }
        if (d.type != MsgType::w_heartbeat) sent.push_back(line);
    }
    void fail(const PendingRequest& p, Status s) override { failed.emplace_back(p.rid, s); }
    // What was sent since the last take(), one line each (a string, so a failing CHECK prints it).
    std::string take() {
        std::string all;
        for (const auto& line : std::exchange(sent, {})) all += line + "\n";
        return all;
    }
};

std::string room_where(const std::vector<std::string>& before, const std::string& owner_before,
                       const std::vector<std::string>& after, const std::string& owner_after);

struct Fixture {
    RoomMirror rooms{100};
    BrokerStats stats;
    RecordingOutbox out;
    RoomRouter router{rooms, stats, out, RouterConfig{100, 3}};
    std::int64_t now = 1000;

    Fixture() { spdlog::set_level(spdlog::level::warn); }

    // A worker that said READY and then a heartbeat: live. Its routing id is "r-" + id.
    void add_worker(const std::string& id) {
        router.worker_ready("r-" + id, WReady{id, "host", 1}, now);
        router.heard("r-" + id, now);
    }
    // Live workers w1 and w2 and a room that w1 holds, with `events` events, and w2 owns once w1 is gone.
    std::string room_held_by_w1(int events) {
        add_worker("w1");
        add_worker("w2");
        const std::string room = room_where({"w1", "w2"}, "w1", {"w2"}, "w2");
        if (events > 0) answer("r-w1", submit(room, 1), events);
        out.take();
        return room;
    }
    std::uint64_t submit(const std::string& room, std::uint64_t rid, MsgType type = MsgType::send) {
        return router.submit(PendingRequest{"client", rid, type, room, "frame", {}, now + 1000});
    }
    // The worker answers `bid` with `events` new message events in the room (as the broker applies them).
    void answer(const std::string& worker, std::uint64_t bid, int events = 1) {
        const PendingRequest* p = router.reply_from(worker, bid);
        REQUIRE(p != nullptr);
        const std::string room = p->room;
        for (int i = 0; i < events; ++i) {
            RoomCopy& copy = rooms.get(room);
            Event e{room, copy.seq + 1, "message", "alice", "hi"};
            bool brk = false;
            rooms.apply(copy, EventView{.room = e.room, .kind = e.kind, .nick = e.nick, .seq = e.seq},
                        encode_with_topic(room_topic(room), e), brk);
        }
        router.finish(bid);
    }
};

std::string lines(std::initializer_list<std::string> l) {
    std::string all;
    for (const auto& line : l) all += line + "\n";
    return all;
}

std::string owner_of(const std::vector<std::string>& ids, const std::string& room) {
    return ids[static_cast<std::size_t>(rendezvous_owner(ids, room))];
}

// A room that `a` owns among {a, b}, and `b` owns once `c` has gone... or any split the test asks for.
std::string room_where(const std::vector<std::string>& before, const std::string& owner_before,
                       const std::vector<std::string>& after, const std::string& owner_after) {
    for (int i = 0; i < 10000; ++i) {
        std::string room = "room" + std::to_string(i);
        if (owner_of(before, room) == owner_before && owner_of(after, room) == owner_after) return room;
    }
    FAIL("no such room");
    return {};
}

}  // namespace

TEST_CASE("a request goes to the room's owner, and a room with no events is not handed over") {
    Fixture f;
    f.add_worker("w1");
    f.add_worker("w2");
    const std::string room = room_where({"w1", "w2"}, "w2", {"w1", "w2"}, "w2");
    std::uint64_t bid = f.submit(room, 7, MsgType::join);
    CHECK(f.out.take() == lines({"r-w2: REQUEST " + std::to_string(bid)}));
    f.answer("r-w2", bid);
    CHECK(f.router.pending_count() == 0);
    CHECK(f.router.rooms_held() == std::map<std::string, std::uint64_t>{{"r-w2", 1}});
    CHECK(f.stats.moved == 0);
}

TEST_CASE("a forged reply (another worker, or an unknown bid) is not taken") {
    Fixture f;
    f.add_worker("w1");
    f.add_worker("w2");
    const std::string room = room_where({"w1", "w2"}, "w1", {"w1", "w2"}, "w1");
    std::uint64_t bid = f.submit(room, 1);
    CHECK(f.router.reply_from("r-w2", bid) == nullptr);
    CHECK(f.router.reply_from("r-w1", bid + 100) == nullptr);
    CHECK(f.router.reply_from("r-w1", bid) != nullptr);
}

TEST_CASE("when a new worker wins a room, the old holder releases it and the new one gets its state first") {
    Fixture f;
    f.add_worker("w1");
    const std::string room = room_where({"w1"}, "w1", {"w1", "w2"}, "w2");
    f.answer("r-w1", f.submit(room, 1), 3);
    f.out.take();
    f.add_worker("w2");
    std::uint64_t bid = f.submit(room, 2);
    CHECK(f.out.take() == lines({"r-w1: W_RELEASE " + room, "r-w2: W_STATE " + room + " seq 3",
                                 "r-w2: REQUEST " + std::to_string(bid)}));
    CHECK(f.stats.moved == 1);
}

TEST_CASE("a room does not move while its holder still has requests in flight, and the waiting ones follow") {
    Fixture f;
    f.add_worker("w1");
    const std::string room = room_where({"w1"}, "w1", {"w1", "w2"}, "w2");
    f.answer("r-w1", f.submit(room, 1), 1);
    std::uint64_t first = f.submit(room, 2);  // in flight at w1
    f.out.take();
    f.add_worker("w2");
    std::uint64_t second = f.submit(room, 3);
    std::uint64_t third = f.submit(room, 4);
    CHECK(f.out.take() == "");  // parked behind `first`
    f.answer("r-w1", first, 1);
    CHECK(f.out.take() ==
          lines({"r-w1: W_RELEASE " + room, "r-w2: W_STATE " + room + " seq 2",
                 "r-w2: REQUEST " + std::to_string(second), "r-w2: REQUEST " + std::to_string(third)}));
}

TEST_CASE(
    "a dead worker's requests are retried in order on the room's next owner, which gets the state first") {
    Fixture f;
    const std::string room = f.room_held_by_w1(2);
    std::uint64_t a = f.submit(room, 2), b = f.submit(room, 3);
    f.out.take();
    // w2 keeps beating; w1 falls silent past liveness x heartbeat.
    f.now += 350;
    f.router.heard("r-w2", f.now);
    f.router.tick(f.now);
    CHECK(f.out.take() == lines({"r-w2: W_STATE " + room + " seq 2", "r-w2: REQUEST " + std::to_string(a),
                                 "r-w2: REQUEST " + std::to_string(b)}));
    CHECK(f.stats.retried == 2);
    CHECK(f.out.failed.empty());
    CHECK(f.router.workers().live_count() == 1);
}

TEST_CASE("a worker whose connection is gone is dropped at once and the request goes to the next owner") {
    Fixture f;
    const std::string room = f.room_held_by_w1(0);
    f.out.unreachable = {"r-w1"};
    std::uint64_t bid = f.submit(room, 1);
    CHECK(f.out.take() == lines({"r-w2: REQUEST " + std::to_string(bid)}));
    CHECK_FALSE(f.router.knows("r-w1"));
}

TEST_CASE("an overdue request is answered timeout once, and not retried when its worker then dies") {
    Fixture f;
    const std::string room = f.room_held_by_w1(0);
    f.submit(room, 9);
    f.now += 1000;
    f.router.heard("r-w1", f.now);
    f.router.heard("r-w2", f.now);
    f.router.tick(f.now);
    CHECK(f.out.failed == std::vector<std::pair<std::uint64_t, Status>>{{9, Status::timeout}});
    CHECK(f.stats.dropped.worker_timeout == 1);
    CHECK(f.router.pending_count() == 1);  // still in flight: the room stays put
    f.now += 50;
    f.router.heard("r-w1", f.now);
    f.router.tick(f.now);
    CHECK(f.out.failed.size() == 1);  // not answered twice
    f.now += 350;
    f.router.heard("r-w2", f.now);
    f.router.tick(f.now);  // w1 dead
    CHECK(f.router.pending_count() == 0);
    CHECK(f.stats.retried == 0);
}

TEST_CASE("with no live worker a request fails no_worker, unless a restart's recovery is under way") {
    Fixture f;
    CHECK_FALSE(f.router.can_route());
    f.submit("lobby", 1);
    CHECK(f.out.failed == std::vector<std::pair<std::uint64_t, Status>>{{1, Status::no_worker}});
    f.router.start_recovery(f.now + 300);
    CHECK(f.router.can_route());
}

TEST_CASE("after a restart, requests wait for the room's worker to hand it back, then go to its owner") {
    Fixture f;
    f.router.start_recovery(f.now + 300);
    std::uint64_t kept = f.submit("kept", 1);
    std::uint64_t lost = f.submit("lost", 2);
    CHECK(f.out.take() == "");
    f.add_worker("w1");
    f.router.tick(f.now);
    CHECK(f.out.take() == "");  // no copy of either room yet
    // w1 hands "kept" back: newer than our (absent) copy, adopted; its parked request goes.
    CHECK(f.router.room_state("r-w1", WState{"kept", 5, {"carol"}, {}}));
    CHECK(f.rooms.find("kept")->seq == 5);
    CHECK(f.out.take() == lines({"r-w1: REQUEST " + std::to_string(kept)}));
    // A stale copy is refused with W_RELEASE.
    CHECK_FALSE(f.router.room_state("r-w1", WState{"kept", 4, {}, {}}));
    CHECK(f.out.take() == lines({"r-w1: W_RELEASE kept"}));
    // Nobody handed "lost" back: when the window ends it starts afresh at its owner.
    f.now += 300;
    f.router.heard("r-w1", f.now);
    f.router.tick(f.now);
    CHECK(f.out.take() == lines({"r-w1: REQUEST " + std::to_string(lost)}));
    CHECK_FALSE(f.router.recovering());
}

TEST_CASE(
    "a draining worker gets nothing new, is let go once its requests are answered, and its rooms move") {
    Fixture f;
    const std::string room = f.room_held_by_w1(1);
    std::uint64_t busy = f.submit(room, 2);
    f.out.take();
    f.router.worker_draining("r-w1");
    CHECK(f.out.take() == "");  // still has `busy`
    std::uint64_t next = f.submit(room, 3);
    CHECK(f.out.take() == "");  // waits: the room may not move while `busy` runs
    f.answer("r-w1", busy, 1);
    // The waiting request goes first (the room moves to w2), then w1, with nothing left, is let go.
    CHECK(f.out.take() == lines({"r-w1: W_RELEASE " + room, "r-w2: W_STATE " + room + " seq 2",
                                 "r-w2: REQUEST " + std::to_string(next), "r-w1: W_DISCONNECT drained"}));
    CHECK_FALSE(f.router.knows("r-w1"));
}

TEST_CASE("a worker that says READY again loses what its earlier incarnation held") {
    Fixture f;
    f.add_worker("w1");
    f.submit("lobby", 1);
    f.out.take();
    // The same worker id on a new socket: the old incarnation's request is retried, and with the new one not
    // live yet (it has not sent a heartbeat) there is nobody to run it.
    f.router.worker_ready("r-w1b", WReady{"w1", "host", 2}, f.now);
    CHECK_FALSE(f.router.knows("r-w1"));
    CHECK(f.router.knows("r-w1b"));
    CHECK(f.stats.retried == 1);
    CHECK(f.out.failed == std::vector<std::pair<std::uint64_t, Status>>{{1, Status::no_worker}});
}
