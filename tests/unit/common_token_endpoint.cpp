// Tokens (REGISTER: "32 random bytes as 64 lowercase hex characters"; the broker keeps only a hash) and the
// advertised-endpoint rule ("When the broker binds a wildcard address ... the peer substitutes the host it
// used to reach the broker").
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "common/endpoint.hpp"
#include "common/token.hpp"

using namespace chatbus;

TEST_CASE("new_token: 64 lowercase hex characters, distinct across calls") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string t = new_token();
        REQUIRE(t.size() == 64);
        for (char c : t) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
        CHECK(seen.insert(t).second);
    }
}

TEST_CASE("token_matches: the token matches its hash and nothing else does") {
    std::string t = new_token();
    TokenHash h = hash_token(t);
    CHECK(token_matches(t, h));
    CHECK(hash_token(t) == h);  // deterministic
    CHECK_FALSE(token_matches(new_token(), h));
    CHECK_FALSE(token_matches("", h));
    CHECK_FALSE(token_matches(t.substr(0, 63), h));
    CHECK_FALSE(token_matches(t + "0", h));
    std::string flipped = t;
    flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
    CHECK_FALSE(token_matches(flipped, h));
    std::string upper = t;
    for (char& c : upper) c = (c >= 'a' && c <= 'f') ? static_cast<char>(c - 32) : c;
    if (upper != t) CHECK_FALSE(token_matches(upper, h));
    // The hash is not the token.
    CHECK(std::string(h.begin(), h.end()) != t.substr(0, 32));
}

TEST_CASE("endpoint_host") {
    CHECK(endpoint_host("tcp://10.0.0.1:5555") == "10.0.0.1");
    CHECK(endpoint_host("tcp://*:5558") == "*");
    CHECK(endpoint_host("tcp://broker.example.org:5555") == "broker.example.org");
    CHECK(endpoint_host("tcp://[::1]:5555") == "[::1]");
    CHECK(endpoint_host("ipc:///tmp/x") == "");
    CHECK(endpoint_host("inproc://x") == "");
    CHECK(endpoint_host("tcp://nocolon") == "");
    CHECK(endpoint_host("") == "");
}

TEST_CASE("resolve_advertised: wildcards take the host the peer used / everything else is unchanged") {
    CHECK(resolve_advertised("tcp://*:5558", "tcp://10.0.0.1:5555") == "tcp://10.0.0.1:5558");
    CHECK(resolve_advertised("tcp://0.0.0.0:5558", "tcp://10.0.0.1:5555") == "tcp://10.0.0.1:5558");
    CHECK(resolve_advertised("tcp://[::]:5558", "tcp://[fd00::1]:5555") == "tcp://[fd00::1]:5558");
    CHECK(resolve_advertised("tcp://*:5558", "tcp://broker.example.org:5555") ==
          "tcp://broker.example.org:5558");
    CHECK(resolve_advertised("tcp://*:5558", "tcp://127.0.0.1:5555") == "tcp://127.0.0.1:5558");
    // A concrete advertised host is kept.
    CHECK(resolve_advertised("tcp://10.0.0.9:5558", "tcp://10.0.0.1:5555") == "tcp://10.0.0.9:5558");
    CHECK(resolve_advertised("tcp://127.0.0.1:5558", "tcp://10.0.0.1:5555") == "tcp://127.0.0.1:5558");
    // Nothing better to substitute: the peer reached a wildcard, or not over tcp.
    CHECK(resolve_advertised("tcp://*:5558", "tcp://*:5555") == "tcp://*:5558");
    CHECK(resolve_advertised("tcp://*:5558", "tcp://0.0.0.0:5555") == "tcp://*:5558");
    CHECK(resolve_advertised("tcp://*:5558", "ipc:///tmp/broker") == "tcp://*:5558");
    CHECK(resolve_advertised("tcp://*:5558", "") == "tcp://*:5558");
    // Non-tcp advertised endpoints pass through.
    CHECK(resolve_advertised("ipc:///tmp/events", "tcp://10.0.0.1:5555") == "ipc:///tmp/events");
    CHECK(resolve_advertised("inproc://events", "tcp://10.0.0.1:5555") == "inproc://events");
}
