// The request-rate bucket and the per-client table (docs/security.md, "Limits"), driven by an explicit clock.
#include <doctest/doctest.h>

#include <string>

#include "broker/client_table.hpp"
#include "common/token_bucket.hpp"

using namespace chatbus;

namespace {

int takes(TokenBucket& b, const RateLimit& lim, std::int64_t now, int tries) {
    int n = 0;
    for (int i = 0; i < tries; ++i) n += b.take(lim, now) ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("token bucket: starts full, then refills at the rate up to the burst") {
    RateLimit lim{10, 5};  // 10 per second, 5 at once
    TokenBucket b;
    CHECK(takes(b, lim, 1000, 100) == 5);
    CHECK_FALSE(b.take(lim, 1000));
    CHECK_FALSE(b.take(lim, 1099));  // 0.99 token
    CHECK(b.take(lim, 1100));        // one token per 100 ms
    CHECK_FALSE(b.take(lim, 1100));
    CHECK(takes(b, lim, 1400, 100) == 3);
    // A long silence refills to the burst, not beyond.
    CHECK(takes(b, lim, 100000, 100) == 5);
}

TEST_CASE("token bucket: rate 0 is unlimited") {
    TokenBucket b;
    CHECK(takes(b, RateLimit{0, 1}, 0, 100000) == 100000);
}

TEST_CASE("token bucket: a burst below 1 still lets one request through") {
    TokenBucket b;
    RateLimit lim{1, 0};
    CHECK(b.take(lim, 0));
    CHECK_FALSE(b.take(lim, 0));
    CHECK(b.take(lim, 1000));
}

TEST_CASE("token bucket: a clock going backwards refills nothing") {
    RateLimit lim{1000, 2};
    TokenBucket b;
    CHECK(takes(b, lim, 5000, 2) == 2);
    CHECK_FALSE(b.take(lim, 4000));
    CHECK_FALSE(b.take(lim, 5000));
    CHECK(b.take(lim, 5001));
}

TEST_CASE("client table: each identity has its own bucket") {
    ClientTable t(ClientLimits{{1, 3}, 100, 60000});
    for (int i = 0; i < 3; ++i) CHECK(t.admit("a", 0, true) == Status::ok);
    CHECK(t.admit("a", 0, true) == Status::rate_limited);
    CHECK(t.admit("b", 0, true) == Status::ok);
    // Uncharged frames (notifications) pass, and keep the identity alive.
    CHECK(t.admit("a", 0, false) == Status::ok);
    CHECK(t.admit("a", 1000, true) == Status::ok);
    CHECK(t.admit("a", 1000, true) == Status::rate_limited);
    CHECK(t.size() == 2);
}

TEST_CASE("client table: a new identity while full gets too_many_clients, and no entry") {
    ClientTable t(ClientLimits{{0, 1}, 3, 10000});
    CHECK(t.admit("a", 0, true) == Status::ok);
    CHECK(t.admit("b", 1, true) == Status::ok);
    CHECK(t.admit("c", 2, true) == Status::ok);
    CHECK(t.admit("d", 3, true) == Status::too_many_clients);
    CHECK(t.admit("d", 4, true) == Status::too_many_clients);
    CHECK(t.size() == 3);
    // Known identities are still served.
    CHECK(t.admit("a", 5, true) == Status::ok);
}

TEST_CASE("client table: idle identities are evicted and make room") {
    ClientTable t(ClientLimits{{0, 1}, 3, 1000});
    CHECK(t.admit("a", 0, true) == Status::ok);
    CHECK(t.admit("b", 500, true) == Status::ok);
    CHECK(t.admit("c", 600, true) == Status::ok);
    CHECK(t.admit("a", 900, true) == Status::ok);  // a is active again: b is now the oldest
    // At 1500 b has been silent 1000 ms: gone; a and c stay.
    CHECK(t.admit("d", 1500, true) == Status::ok);
    CHECK(t.size() == 3);
    CHECK(t.admit("e", 1550, true) == Status::too_many_clients);
    CHECK(t.admit("e", 1600, true) == Status::ok);  // c silent since 600
    CHECK(t.size() == 3);
}

TEST_CASE("client table: eviction happens without the table being full, a few per frame") {
    ClientTable t(ClientLimits{{0, 1}, 100000, 100});
    for (int i = 0; i < 1000; ++i) CHECK(t.admit("id" + std::to_string(i), i / 100, true) == Status::ok);
    CHECK(t.size() == 1000);
    // Much later, every admit removes a bounded number of stale entries; the table drains over frames.
    std::size_t before = t.size();
    CHECK(t.admit("late", 10000, true) == Status::ok);
    CHECK(t.size() < before + 1);
    CHECK(t.size() > before - 10);
    for (int i = 0; i < 1000; ++i) t.admit("late", 10000, true);
    CHECK(t.size() == 1);
}

TEST_CASE("client table: an evicted identity comes back with a full bucket, bounded by the idle time") {
    ClientTable t(ClientLimits{{1, 2}, 10, 5000});
    CHECK(t.admit("a", 0, true) == Status::ok);
    CHECK(t.admit("a", 0, true) == Status::ok);
    CHECK(t.admit("a", 0, true) == Status::rate_limited);
    CHECK(t.admit("b", 6000, true) == Status::ok);  // evicts a
    CHECK(t.size() == 1);
    CHECK(t.admit("a", 6000, true) == Status::ok);
    CHECK(t.admit("a", 6000, true) == Status::ok);
    CHECK(t.admit("a", 6000, true) == Status::rate_limited);
}

TEST_CASE("client table: with no bound and no rate it keeps nothing") {
    ClientTable t(ClientLimits{{0, 1}, 0, 1000});
    for (int i = 0; i < 100; ++i) CHECK(t.admit("id" + std::to_string(i), 0, true) == Status::ok);
    CHECK(t.size() == 0);
}

TEST_CASE("client table: a gateway's frames are not charged while it stays active") {
    ClientTable t(ClientLimits{{0.001, 3}, 100, 1000});
    for (int i = 0; i < 3; ++i) CHECK(t.admit("gw", 0, true) == Status::ok);
    CHECK(t.admit("gw", 0, true) == Status::rate_limited);
    t.set_gateway("gw", true, 0);
    CHECK(t.is_gateway("gw"));
    CHECK(t.gateways() == 1);
    // Far beyond the identity's rate, and for longer than the idle time, since it is never idle that long.
    int refused = 0;
    for (std::int64_t now = 0; now <= 10000; now += 10) {
        for (int i = 0; i < 10; ++i) refused += t.admit("gw", now, true) == Status::ok ? 0 : 1;
        // Other identities come and go meanwhile; eviction runs on every admit.
        if (now % 500 == 0) CHECK(t.admit("c" + std::to_string(now), now, true) == Status::ok);
    }
    CHECK(refused == 0);
    CHECK(t.is_gateway("gw"));
    CHECK(t.gateways() == 1);
    // An ordinary client beside it is still limited.
    for (int i = 0; i < 3; ++i) CHECK(t.admit("plain", 10000, true) == Status::ok);
    CHECK(t.admit("plain", 10000, true) == Status::rate_limited);
}

TEST_CASE("client table: a gateway evicted after being idle is charged again until it claims again") {
    ClientTable t(ClientLimits{{0.001, 2}, 100, 1000});
    CHECK(t.admit("gw", 0, true) == Status::ok);
    t.set_gateway("gw", true, 0);
    CHECK(t.admit("gw", 999, true) == Status::ok);  // PINGs count as activity
    // Silent from 999 for idle_ms: its next frame finds it forgotten, with its mark.
    CHECK(t.admit("gw", 1999, true) == Status::ok);
    CHECK_FALSE(t.is_gateway("gw"));
    CHECK(t.gateways() == 0);
    CHECK(t.admit("gw", 1999, true) == Status::ok);
    CHECK(t.admit("gw", 1999, true) == Status::rate_limited);
    // Another HELLO with the claim makes it a gateway again.
    t.set_gateway("gw", true, 1999);
    CHECK(t.admit("gw", 1999, true) == Status::ok);
    CHECK(t.gateways() == 1);
    // Evicted by another identity's frame just the same.
    CHECK(t.admit("other", 5000, true) == Status::ok);
    CHECK(t.gateways() == 0);
    CHECK(t.size() == 1);
}

TEST_CASE("client table: giving up the gateway role makes the identity charged again") {
    ClientTable t(ClientLimits{{0.001, 2}, 100, 1000});
    CHECK(t.admit("gw", 0, true) == Status::ok);
    t.set_gateway("gw", true, 0);
    for (int i = 0; i < 10; ++i) CHECK(t.admit("gw", 0, true) == Status::ok);
    t.set_gateway("gw", false, 0);
    t.set_gateway("gw", false, 0);  // twice: counted once
    CHECK(t.gateways() == 0);
    CHECK(t.admit("gw", 0, true) == Status::ok);  // the claim's own frame took the first token
    CHECK(t.admit("gw", 0, true) == Status::rate_limited);
    t.set_gateway("nobody", false, 0);  // no entry is made for an ordinary client
    CHECK(t.size() == 1);
}

TEST_CASE("client table: with the limits off it keeps only gateways, and forgets idle ones") {
    ClientTable t(ClientLimits{{0, 1}, 0, 1000});
    for (int i = 0; i < 100; ++i) CHECK(t.admit("id" + std::to_string(i), 0, true) == Status::ok);
    CHECK(t.size() == 0);
    t.set_gateway("gw", true, 0);
    CHECK(t.size() == 1);
    CHECK(t.gateways() == 1);
    CHECK(t.admit("stranger", 500, true) == Status::ok);
    CHECK(t.size() == 1);  // still no entry for an ordinary client
    CHECK(t.admit("gw", 900, true) == Status::ok);
    CHECK(t.admit("stranger", 1800, true) == Status::ok);
    CHECK(t.is_gateway("gw"));  // heard at 900
    CHECK(t.admit("stranger", 1900, true) == Status::ok);
    CHECK(t.gateways() == 0);
    CHECK(t.size() == 0);
}
