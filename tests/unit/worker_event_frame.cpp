// The worker's hand-written event frames are byte for byte what the codec writes.
#include <doctest/doctest.h>

#include <string>

#include "common/codec.hpp"
#include "worker/event_frame.hpp"

using namespace chatbus;

TEST_CASE("encode_event_frame writes the codec's bytes") {
    std::string out = "leftover from the previous frame";
    for (std::size_t text : {0, 1, 31, 32, 255, 256, 65535, 65536}) {
        for (std::uint64_t n : {0ull, 127ull, 128ull, 255ull, 256ull, 65535ull, 65536ull, 4294967295ull,
                                4294967296ull, 18446744073709551615ull}) {
            Event e{"lobby-" + std::string(text % 40, 'r'), n, "message", "alice", std::string(text, 't'), n};
            encode_event_frame(out, e);
            CHECK(out == encode_with_topic(room_topic(e.room), e));
        }
    }
}
