// SEND's views check the texts' types without copying them: they must refuse what a full decode refuses
// (docs/protocol.md, "Decoding rules": str only, never bin).
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/codec.hpp"
#include "tests/unit/packed.hpp"
#include "common/send_views.hpp"

using namespace chatbus;

namespace {

std::string send_frame(bool second_as_bin) {
    std::string out{kSignature0, kSignature1, static_cast<char>(kProtocolVersion),
                    static_cast<char>(MsgType::send)};
    return out + test::packed_with([&](auto& pk) {
               pk.pack_map(3);
               pk.pack(std::string("rid"));
               pk.pack(std::uint64_t{5});
               pk.pack(std::string("room"));
               pk.pack(std::string("r"));
               pk.pack(std::string("texts"));
               pk.pack_array(2);
               pk.pack(std::string("one"));
               if (second_as_bin) {
                   pk.pack_bin(3);
                   pk.pack_bin_body("two", 3);
               } else {
                   pk.pack(std::string("two"));
               }
           });
}

}  // namespace

TEST_CASE("SendHead counts str texts and refuses a bin text, as decoding a whole Send does") {
    SendHead head;
    Send full;
    REQUIRE(decode_as(send_frame(false), head) == Status::ok);
    CHECK(head.texts.count == 2);
    CHECK(decode_as(send_frame(false), full) == Status::ok);
    CHECK(decode_as(send_frame(true), head) == Status::bad_request);
    CHECK(decode_as(send_frame(true), full) == Status::bad_request);
}

TEST_CASE("SendView reads the texts in place, and refuses a bin text as Send does") {
    const std::string frame = send_frame(false);
    Decoded d;
    REQUIRE(decode(frame, d) == Status::ok);
    SendView v;
    REQUIRE(body_as(d, v) == Status::ok);
    CHECK(v.rid == 5);
    CHECK(v.texts == std::vector<std::string_view>{"one", "two"});
    CHECK(decode_as(send_frame(true), v) == Status::bad_request);
}
