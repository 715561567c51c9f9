#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/paged_request.hpp"

using namespace chatbus;
using namespace chatbus::cli;

namespace {

const Outcome kOk{.transport = Transport::ok, .status = Status::ok};

Event ev(std::uint64_t seq) {
    return Event{.room = "lobby", .seq = seq, .kind = "message", .nick = "bob", .text = "t"};
}

// A broker's HISTORY of events 1..n, `per_page` at a time; records every request.
struct HistoryPages {
    std::uint64_t n = 0;
    std::size_t per_page = 2;
    std::vector<History> asked;
    Outcome operator()(const History& req, HistoryReply& r) {
        asked.push_back(req);
        r.room = req.room;
        std::uint64_t first = req.since + 1;
        if (req.last > 0 && n >= req.last && n - req.last + 1 > first) first = n - req.last + 1;
        for (std::uint64_t s = first; s <= n && r.events.size() < per_page; ++s) r.events.push_back(ev(s));
        r.more = !r.events.empty() && r.events.back().seq < n;
        return kOk;
    }
};

std::vector<std::uint64_t> seqs(const std::vector<Event>& events) {
    std::vector<std::uint64_t> r;
    for (const auto& e : events) r.push_back(e.seq);
    return r;
}

}  // namespace

TEST_CASE("paged request: HISTORY pages follow `since`, only the first takes `last`") {
    HistoryPages broker{.n = 7, .per_page = 2};
    std::vector<Event> got;
    auto o = follow_pages(
        History{.room = "lobby", .last = 5}, [&](const History& q, HistoryReply& r) { return broker(q, r); },
        [&](HistoryReply& r) {
            got.insert(got.end(), r.events.begin(), r.events.end());
            return true;
        });
    CHECK(o.ok());
    CHECK(seqs(got) == std::vector<std::uint64_t>{3, 4, 5, 6, 7});
    REQUIRE(broker.asked.size() == 3);
    CHECK(broker.asked[0].last == 5);
    CHECK(broker.asked[0].since == 0);
    CHECK(broker.asked[1].last == 0);
    CHECK(broker.asked[1].since == 4);
    CHECK(broker.asked[2].since == 6);
}

TEST_CASE("paged request: stops when `take` has enough") {
    HistoryPages broker{.n = 10, .per_page = 3};
    int pages = 0;
    auto o = follow_pages(
        History{.room = "lobby"}, [&](const History& q, HistoryReply& r) { return broker(q, r); },
        [&](HistoryReply&) { return ++pages < 2; });
    CHECK(o.ok());
    CHECK(pages == 2);
    CHECK(broker.asked.size() == 2);
}

TEST_CASE("paged request: a broker that says more but does not move forward is not asked again") {
    HistoryReply page{.more = true};
    SUBCASE("empty page") {}
    SUBCASE("cursor going back") {
        page.events = {ev(3)};
    }
    int asked = 0;
    auto o = follow_pages(
        History{.room = "lobby", .since = 4},
        [&](const History&, HistoryReply& r) {
            ++asked;
            r = page;
            return kOk;
        },
        [](HistoryReply&) { return true; });
    CHECK(o.ok());
    CHECK(asked == 1);
}

TEST_CASE("paged request: a failed page ends it with its outcome, after the earlier pages were taken") {
    HistoryPages broker{.n = 6, .per_page = 2};
    std::vector<Event> got;
    auto o = follow_pages(
        History{.room = "lobby"},
        [&](const History& q, HistoryReply& r) {
            if (broker.asked.size() == 2)
                return Outcome{.transport = Transport::ok, .status = Status::no_worker};
            return broker(q, r);
        },
        [&](HistoryReply& r) {
            got.insert(got.end(), r.events.begin(), r.events.end());
            return true;
        });
    CHECK(o.status == Status::no_worker);
    CHECK(seqs(got) == std::vector<std::uint64_t>{1, 2, 3, 4});
}

TEST_CASE("paged request: ROOMS pages follow `after`") {
    const std::vector<std::string> all = {"a", "b", "c", "d", "e"};
    std::vector<std::string> afters, got;
    auto o = follow_pages(
        Rooms{},
        [&](const Rooms& q, RoomsReply& r) {
            afters.push_back(q.after);
            for (const auto& name : all) {
                if (name > q.after && r.rooms.size() < 2)
                    r.rooms.push_back(RoomInfo{.room = name, .members = 1});
            }
            r.more = r.rooms.back().room != all.back();
            return kOk;
        },
        [&](RoomsReply& r) {
            for (const auto& info : r.rooms) got.push_back(info.room);
            return true;
        });
    CHECK(o.ok());
    CHECK(got == all);
    CHECK(afters == std::vector<std::string>{"", "b", "d"});
}

TEST_CASE("paged request: a ROOMS cursor that does not move forward ends it") {
    Rooms req{.after = "m"};
    CHECK_FALSE(advance(req, RoomsReply{.rooms = {RoomInfo{.room = "c"}}, .more = true}));
    CHECK_FALSE(advance(req, RoomsReply{.more = true}));
    CHECK(req.after == "m");
    CHECK(advance(req, RoomsReply{.rooms = {RoomInfo{.room = "n"}, RoomInfo{.room = "p"}}, .more = true}));
    CHECK(req.after == "p");
}
