// Rendezvous hashing: "the worker with the highest weight owns the room"; adding or losing a worker moves
// only the rooms that must move.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "common/rendezvous.hpp"

using namespace chatbus;

namespace {

std::vector<std::string> rooms(int n) {
    std::vector<std::string> r;
    for (int i = 0; i < n; ++i) r.push_back("room-" + std::to_string(i));
    return r;
}

std::map<std::string, std::string> owners(const std::vector<std::string>& workers,
                                          const std::vector<std::string>& rs) {
    std::map<std::string, std::string> out;
    for (const auto& r : rs) {
        int i = rendezvous_owner(workers, r);
        REQUIRE(i >= 0);
        REQUIRE(static_cast<std::size_t>(i) < workers.size());
        out[r] = workers[static_cast<std::size_t>(i)];
    }
    return out;
}

}  // namespace

TEST_CASE("fnv1a64 hashes a, a zero byte, then b (FNV-1a 64-bit)") {
    // FNV-1a 64 of the single byte 0x00, a published test vector.
    CHECK(fnv1a64("", "") == 0xaf63bd4c8601b7dfull);
    CHECK(fnv1a64("w1", "general") == 0x40668df78cb84535ull);
    // The separator keeps ("ab","c") and ("a","bc") apart.
    CHECK(fnv1a64("ab", "c") != fnv1a64("a", "bc"));
}

TEST_CASE("rendezvous_owner: empty, deterministic, independent of the order workers are listed in") {
    std::vector<std::string> none;
    CHECK(rendezvous_owner(none, "general") == -1);

    std::vector<std::string> w{"w1", "w2", "w3"};
    std::vector<std::string> w_rev{"w3", "w2", "w1"};
    for (const auto& r : rooms(500)) {
        int a = rendezvous_owner(w, r);
        CHECK(a == rendezvous_owner(w, r));
        CHECK(w[static_cast<std::size_t>(a)] == w_rev[static_cast<std::size_t>(rendezvous_owner(w_rev, r))]);
        CHECK(rendezvous_weight("w1", r) == rendezvous_weight("w1", r));
        // The owner is the worker of highest weight.
        for (const auto& x : w)
            CHECK(rendezvous_weight(x, r) <= rendezvous_weight(w[static_cast<std::size_t>(a)], r));
    }
}

TEST_CASE("one worker owns every room") {
    std::vector<std::string> w{"only"};
    for (const auto& r : rooms(1000)) CHECK(rendezvous_owner(w, r) == 0);
}

TEST_CASE("3,000 rooms over 3 workers: each within 15% of an even share") {
    std::vector<std::string> w{"w1", "w2", "w3"};
    auto own = owners(w, rooms(3000));
    std::map<std::string, int> count;
    for (const auto& [r, o] : own) ++count[o];
    for (const auto& x : w) {
        CAPTURE(x);
        CHECK(count[x] >= 850);
        CHECK(count[x] <= 1150);
    }
    // The same for host-pid style ids, which differ in fewer characters.
    std::vector<std::string> hp{"host-1000", "host-1001", "host-1002"};
    auto own2 = owners(hp, rooms(3000));
    std::map<std::string, int> count2;
    for (const auto& [r, o] : own2) ++count2[o];
    for (const auto& x : hp) {
        CAPTURE(x);
        CHECK(count2[x] >= 850);
        CHECK(count2[x] <= 1150);
    }
}

TEST_CASE("adding a 4th worker moves only rooms to it, about a quarter of them") {
    auto rs = rooms(3000);
    auto before = owners({"w1", "w2", "w3"}, rs);
    auto after = owners({"w1", "w2", "w3", "w4"}, rs);
    int moved = 0;
    for (const auto& r : rs) {
        if (before[r] != after[r]) {
            ++moved;
            CHECK_MESSAGE(after[r] == "w4", r << " moved from " << before[r] << " to " << after[r]);
        }
    }
    double share = moved / 3000.0;
    CAPTURE(share);
    CHECK(share >= 0.18);
    CHECK(share <= 0.32);
}

TEST_CASE("removing a worker moves only that worker's rooms") {
    auto rs = rooms(3000);
    auto before = owners({"w1", "w2", "w3", "w4"}, rs);
    auto after = owners({"w1", "w2", "w4"}, rs);
    int moved = 0;
    for (const auto& r : rs) {
        if (before[r] == "w3") {
            ++moved;
            CHECK(after[r] != "w3");
        } else {
            CHECK_MESSAGE(after[r] == before[r], r << " moved from " << before[r] << " to " << after[r]);
        }
    }
    CHECK(moved > 0);
}
