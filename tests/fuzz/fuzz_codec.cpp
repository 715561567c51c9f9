// libFuzzer target: the frame codec of common/ on arbitrary bytes. decode(), decode_topic_frame(), peek_rid(),
// peek_string() and body_as<T>() for every message type must never throw or crash, and whatever body_as<T>()
// accepts must survive encode() -> decode_as() unchanged (so a relayed message means what it meant).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/codec.hpp"
#include "tests/unit/common_samples.hpp"

using namespace chatbus;

namespace {

[[noreturn]] void fail(const char* what, MsgType t) {
    std::fprintf(stderr, "fuzz_codec: %s (type 0x%02x)\n", what, static_cast<unsigned>(t));
    std::abort();
}

bool is_status(Status s) {
    return static_cast<std::uint64_t>(s) <= static_cast<std::uint64_t>(Status::internal);
}

void exercise(Decoded& d) {
    (void)peek_rid(d);
    (void)peek_string(d, "nick");
    (void)peek_string(d, "room");
    const MsgType real = d.type;
    test::for_each_message_type([&](auto proto) {
        using T = decltype(proto);
        // Every struct's conversion sees the body, not only the one its header names.
        d.type = T::kType;
        T out{};
        Status s = body_as(d, out);
        if (!is_status(s)) fail("body_as returned an unknown status", T::kType);
        if (s != Status::ok) return;
        std::string again = encode(out);
        T back{};
        Status s2 = decode_as(again, back);
        if (s2 != Status::ok) fail("re-encoded message does not decode", T::kType);
        if (!(back == out)) fail("re-encoded message decodes to something else", T::kType);
    });
    d.type = real;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view frame(reinterpret_cast<const char*>(data), size);
    {
        Decoded d;
        Status s = decode(frame, d);
        if (!is_status(s)) std::abort();
        if (s == Status::ok) {
            if (d.body.get().type != msgpack::type::MAP) std::abort();
            exercise(d);
        }
    }
    {
        Decoded d;
        if (decode_topic_frame(frame, d) == Status::ok) exercise(d);
    }
    return 0;
}
