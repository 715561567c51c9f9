// Hostile input: every byte sequence a peer can send gives the status docs/protocol.md ("Decoding rules")
// names, and nothing throws or crashes.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "tests/unit/common_samples.hpp"

using namespace chatbus;
using chatbus::test::for_each_message_type;
using chatbus::test::sample;

namespace {

std::string header(std::uint8_t type, std::uint8_t version = 1) {
    return std::string{'C', 'B', static_cast<char>(version), static_cast<char>(type)};
}

Status decode_status(const std::string& frame) {
    Decoded d;
    Status s = Status::internal;
    CHECK_NOTHROW(s = decode(frame, d));
    return s;
}

// decode + body_as<T>, never throwing.
template <class T>
Status convert_status(const std::string& frame) {
    T out{};
    Status s = Status::internal;
    CHECK_NOTHROW(s = decode_as(frame, out));
    return s;
}

template <class F>
std::string packed(F&& build) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    build(pk);
    return std::string(buf.data(), buf.size());
}

// {"texts": [[[...["x"]...]]]} with `arrays` nested arrays inside the top map.
std::string nested_body(int arrays) {
    return packed([&](auto& pk) {
        pk.pack_map(1);
        pk.pack(std::string("texts"));
        for (int i = 0; i < arrays; ++i) pk.pack_array(1);
        pk.pack(std::string("x"));
    });
}

}  // namespace

TEST_CASE("frames too short or with a wrong signature are malformed (bad_request)") {
    CHECK(decode_status("") == Status::bad_request);
    CHECK(decode_status("C") == Status::bad_request);
    CHECK(decode_status("CB") == Status::bad_request);
    CHECK(decode_status("CB\x01") == Status::bad_request);
    CHECK(decode_status(std::string(3, '\0')) == Status::bad_request);
    CHECK(decode_status("XB\x01\x01\x80") == Status::bad_request);
    CHECK(decode_status("CX\x01\x01\x80") == Status::bad_request);
    CHECK(decode_status("cb\x01\x01\x80") == Status::bad_request);
    CHECK(decode_status(std::string("\0\0\x01\x01\x80", 5)) == Status::bad_request);
    // Signature checked before the version.
    CHECK(decode_status("BC\x02\x01\x80") == Status::bad_request);
}

TEST_CASE("a version other than 1 is bad_version, checked before the type") {
    for (int v : {0, 2, 3, 0x7F, 0x80, 0xFF}) {
        CAPTURE(v);
        CHECK(decode_status(header(0x01, static_cast<std::uint8_t>(v)) + "\x80") == Status::bad_version);
        CHECK(decode_status(header(0xEE, static_cast<std::uint8_t>(v)) + "\x80") == Status::bad_version);
        CHECK(decode_status(header(0x01, static_cast<std::uint8_t>(v))) == Status::bad_version);
        CHECK(convert_status<Hello>(header(0x01, static_cast<std::uint8_t>(v)) + "\x80") ==
              Status::bad_version);
    }
}

TEST_CASE("every type code: listed ones decode an empty map, the others are unknown_type") {
    for (int c = 0; c < 256; ++c) {
        CAPTURE(c);
        const std::string frame = header(static_cast<std::uint8_t>(c)) + "\x80";
        if (msg_type_from_wire(static_cast<std::uint8_t>(c))) {
            CHECK(decode_status(frame) == Status::ok);
        } else {
            CHECK(decode_status(frame) == Status::unknown_type);
            CHECK(decode_status(header(static_cast<std::uint8_t>(c)) + "garbage") == Status::unknown_type);
        }
    }
}

TEST_CASE("body_as refuses a body of another type code with unknown_type") {
    Decoded d;
    REQUIRE(decode(encode(sample<Join>()), d) == Status::ok);
    Leave leave;
    CHECK(body_as(d, leave) == Status::unknown_type);
    Join join;
    CHECK(body_as(d, join) == Status::ok);
}

TEST_CASE("truncated bodies are bad_request at every cut") {
    for_each_message_type([](auto m) {
        using T = decltype(m);
        CAPTURE(msg_type_name(T::kType));
        const std::string frame = encode(sample<T>());
        // Cutting a long frame at every byte is slow; every cut for the first 256 bytes, then a stride.
        for (std::size_t n = kHeaderSize; n < frame.size(); n += (n < 256 ? 1 : 97)) {
            CAPTURE(n);
            CHECK(decode_status(frame.substr(0, n)) == Status::bad_request);
            CHECK(convert_status<T>(frame.substr(0, n)) == Status::bad_request);
        }
    });
}

TEST_CASE("trailing bytes after the body are bad_request") {
    const std::string frame = encode(sample<Hello>());
    CHECK(decode_status(frame + std::string(1, '\0')) == Status::bad_request);
    CHECK(decode_status(frame + "garbage") == Status::bad_request);
    CHECK(decode_status(frame + "\x80") == Status::bad_request);  // a second map
}

TEST_CASE("a body that is not a map is bad_request") {
    CHECK(decode_status(header(0x01) + "\x90") == Status::bad_request);      // []
    CHECK(decode_status(header(0x01) + "\x91\x01") == Status::bad_request);  // [1]
    CHECK(decode_status(header(0x01) + "\x07") == Status::bad_request);      // 7
    CHECK(decode_status(header(0x01) + "\xC0") == Status::bad_request);      // nil
    CHECK(decode_status(header(0x01) + "\xC3") == Status::bad_request);      // true
    CHECK(decode_status(header(0x01) + "\xA3"
                                       "abc") == Status::bad_request);                          // "abc"
    CHECK(decode_status(header(0x01) + "\xC4\x01x") == Status::bad_request);                    // bin
    CHECK(decode_status(header(0x01) + "\xCB" + std::string(8, '\0')) == Status::bad_request);  // 0.0
    CHECK(decode_status(header(0x01) + "\xC1") == Status::bad_request);  // never used byte
    CHECK(convert_status<Hello>(header(0x01) + "\x90") == Status::bad_request);
}

TEST_CASE("fields of the wrong type are bad_request through body_as, never an exception") {
    auto frame_of = [](std::uint8_t type, auto&& build) { return header(type) + packed(build); };

    // rid as a string
    CHECK(convert_status<Hello>(frame_of(0x01, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("rid"));
              pk.pack(std::string("1"));
          })) == Status::bad_request);
    // rid negative
    CHECK(convert_status<Hello>(frame_of(0x01, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("rid"));
              pk.pack(-1);
          })) == Status::bad_request);
    // rid a float
    CHECK(convert_status<Hello>(frame_of(0x01, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("rid"));
              pk.pack(1.5);
          })) == Status::bad_request);
    // texts as an int
    CHECK(convert_status<Send>(frame_of(0x06, [](auto& pk) {
              pk.pack_map(2);
              pk.pack(std::string("rid"));
              pk.pack(1);
              pk.pack(std::string("texts"));
              pk.pack(5);
          })) == Status::bad_request);
    // texts as an array of ints
    CHECK(convert_status<Send>(frame_of(0x06, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("texts"));
              pk.pack_array(2);
              pk.pack(1);
              pk.pack(2);
          })) == Status::bad_request);
    // texts as a string
    CHECK(convert_status<Send>(frame_of(0x06, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("texts"));
              pk.pack(std::string("hello"));
          })) == Status::bad_request);
    // nick as an int
    CHECK(convert_status<Register>(frame_of(0x02, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("nick"));
              pk.pack(42);
          })) == Status::bad_request);
    // nick as nil
    CHECK(convert_status<Register>(frame_of(0x02, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("nick"));
              pk.pack_nil();
          })) == Status::bad_request);
    // joined as an int
    CHECK(convert_status<JoinReply>(frame_of(0x84, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("joined"));
              pk.pack(1);
          })) == Status::bad_request);
    // a nested map (limits) as an array
    CHECK(convert_status<HelloReply>(frame_of(0x81, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("limits"));
              pk.pack_array(1);
              pk.pack(1);
          })) == Status::bad_request);
    // an array of maps (rooms) holding a string
    CHECK(convert_status<RoomsReply>(frame_of(0x89, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("rooms"));
              pk.pack_array(1);
              pk.pack(std::string("general"));
          })) == Status::bad_request);
    // W_STATE history holding a string instead of EVENT maps, members as a string
    CHECK(convert_status<WState>(frame_of(0x46, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("history"));
              pk.pack_array(1);
              pk.pack(std::string("event"));
          })) == Status::bad_request);
    CHECK(convert_status<WState>(frame_of(0x46, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("members"));
              pk.pack(std::string("Alice"));
          })) == Status::bad_request);
    // PING_REPLY listening as an int
    CHECK(convert_status<PingReply>(frame_of(0x8C, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("listening"));
              pk.pack(1);
          })) == Status::bad_request);
    // a map of counters with a string value
    CHECK(convert_status<StatusReply>(frame_of(0x8D, [](auto& pk) {
              pk.pack_map(1);
              pk.pack(std::string("dropped"));
              pk.pack_map(1);
              pk.pack(std::string("malformed"));
              pk.pack(std::string("many"));
          })) == Status::bad_request);
}

TEST_CASE("the msgpack bomb 88 df ff ff ff 8b after a valid header is refused without allocating") {
    const std::string bomb("\x88\xdf\xff\xff\xff\x8b", 6);
    for (std::uint8_t type : {0x01, 0x02, 0x06, 0x40, 0x50}) {
        CHECK(decode_status(header(type) + bomb) == Status::bad_request);
    }
    CHECK(convert_status<Send>(header(0x06) + bomb) == Status::bad_request);
    // The same claim as the top-level object, and as array32 / str32 / bin32.
    CHECK(decode_status(header(0x06) + std::string("\xdf\xff\xff\xff\xff", 5)) == Status::bad_request);
    CHECK(decode_status(header(0x06) + std::string("\x81\xa1x\xdd\xff\xff\xff\xff", 8)) ==
          Status::bad_request);
    CHECK(decode_status(header(0x06) + std::string("\x81\xa1x\xdb\xff\xff\xff\xff", 8)) ==
          Status::bad_request);
    CHECK(decode_status(header(0x06) + std::string("\x81\xa1x\xc6\xff\xff\xff\xff", 8)) ==
          Status::bad_request);
}

TEST_CASE("nesting depth: 16 levels decode, deeper ones are bad_request") {
    // The top map is level 1; n nested arrays make n + 1 levels.
    CHECK(decode_status(header(0x06) + nested_body(15)) == Status::ok);
    CHECK(decode_status(header(0x06) + nested_body(16)) == Status::bad_request);
    CHECK(decode_status(header(0x06) + nested_body(17)) == Status::bad_request);
    CHECK(decode_status(header(0x06) + nested_body(1000)) == Status::bad_request);
    // 100,000 levels would overflow a recursive decoder's stack.
    CHECK(decode_status(header(0x06) + nested_body(100'000)) == Status::bad_request);
    // Deep but within limits, and of the wrong shape for SEND's texts.
    CHECK(convert_status<Send>(header(0x06) + nested_body(3)) == Status::bad_request);
}

TEST_CASE("arrays up to 1,024 elements decode / 1,025 are bad_request / so are maps of 1,025 entries") {
    auto texts = [](std::size_t n) {
        return header(0x06) + packed([&](auto& pk) {
                   pk.pack_map(1);
                   pk.pack(std::string("texts"));
                   pk.pack_array(static_cast<std::uint32_t>(n));
                   for (std::size_t i = 0; i < n; ++i) pk.pack(std::string("t"));
               });
    };
    Send s;
    CHECK(convert_status<Send>(texts(1024)) == Status::ok);
    REQUIRE(decode_as(texts(1024), s) == Status::ok);
    CHECK(s.texts.size() == 1024);
    CHECK(convert_status<Send>(texts(1025)) == Status::bad_request);
    CHECK(convert_status<Send>(texts(100'000)) == Status::bad_request);

    auto wide_map = [](std::size_t n) {
        return header(0x01) + packed([&](auto& pk) {
                   pk.pack_map(static_cast<std::uint32_t>(n));
                   for (std::size_t i = 0; i < n; ++i) {
                       pk.pack("k" + std::to_string(i));
                       pk.pack(i);
                   }
               });
    };
    CHECK(decode_status(wide_map(1024)) == Status::ok);
    CHECK(decode_status(wide_map(1025)) == Status::bad_request);
}

TEST_CASE("strings up to 65,536 bytes decode / a 70,000-byte string is bad_request") {
    auto dm_text = [](std::size_t n) {
        return header(0x07) + packed([&](auto& pk) {
                   pk.pack_map(1);
                   pk.pack(std::string("text"));
                   pk.pack(std::string(n, 'a'));
               });
    };
    Dm dm;
    REQUIRE(decode_as(dm_text(65'536), dm) == Status::ok);
    CHECK(dm.text.size() == 65'536);
    CHECK(convert_status<Dm>(dm_text(65'537)) == Status::bad_request);
    CHECK(convert_status<Dm>(dm_text(70'000)) == Status::bad_request);
    // The same for a map key and for binary data.
    CHECK(decode_status(header(0x07) + packed([](auto& pk) {
                            pk.pack_map(1);
                            pk.pack(std::string(70'000, 'k'));
                            pk.pack(1);
                        })) == Status::bad_request);
    CHECK(decode_status(header(0x07) + packed([](auto& pk) {
                            pk.pack_map(1);
                            pk.pack(std::string("b"));
                            pk.pack_bin(70'000);
                            pk.pack_bin_body(std::string(70'000, 'b').data(), 70'000);
                        })) == Status::bad_request);
}

TEST_CASE(
    "topic frames: no zero byte is bad_request; the frame after the zero is decoded with the same rules") {
    Decoded d;
    CHECK(decode_topic_frame("room/general", d) == Status::bad_request);
    CHECK(decode_topic_frame("", d) == Status::bad_request);
    CHECK(decode_topic_frame(std::string("room/x\0", 7), d) == Status::bad_request);
    CHECK(decode_topic_frame(std::string("room/x\0", 7) + header(0x50, 2) + "\x80", d) ==
          Status::bad_version);
    CHECK(decode_topic_frame(std::string("room/x\0", 7) + header(0x5F) + "\x80", d) == Status::unknown_type);
    CHECK(decode_topic_frame(std::string("room/x\0", 7) + header(0x50) + "\x80", d) == Status::ok);
}

TEST_CASE("a few thousand deterministic pseudo-random frames: no throw, no crash") {
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    auto next = [&state]() {  // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        return state * 0x2545F4914F6CDD1Dull;
    };
    std::vector<std::string> seeds;
    for_each_message_type([&](auto m) { seeds.push_back(encode(sample<decltype(m)>())); });

    int ok = 0;
    for (int i = 0; i < 6000; ++i) {
        std::string frame;
        switch (i % 3) {
            case 0: {  // random bytes
                std::size_t n = next() % 64;
                for (std::size_t k = 0; k < n; ++k) frame.push_back(static_cast<char>(next()));
                break;
            }
            case 1: {  // a valid header, then random bytes (reaches the msgpack decoder)
                frame = header(
                    static_cast<std::uint8_t>(all_message_types()[next() % all_message_types().size()].type));
                std::size_t n = next() % 96;
                for (std::size_t k = 0; k < n; ++k) frame.push_back(static_cast<char>(next()));
                break;
            }
            default: {  // a valid frame with a few bytes flipped (reaches body_as)
                frame = seeds[next() % seeds.size()];
                if (frame.size() > 20'000) frame.resize(20'000);
                for (int k = 0; k < 3; ++k) {
                    std::size_t pos = kHeaderSize + next() % (frame.size() - kHeaderSize);
                    frame[pos] = static_cast<char>(next());
                }
            }
        }
        Decoded d;
        Status s = Status::internal;
        REQUIRE_NOTHROW(s = decode(frame, d));
        if (s != Status::ok) continue;
        ++ok;
        REQUIRE_NOTHROW((void)peek_rid(d));
        REQUIRE_NOTHROW((void)peek_string(d, "nick"));
        // Try every struct: a wrong type code or shape must be a status, not an exception.
        for_each_message_type([&](auto m) {
            using T = decltype(m);
            T out{};
            Status bs = Status::internal;
            REQUIRE_NOTHROW(bs = body_as(d, out));
            if (d.type != T::kType) CHECK(bs == Status::unknown_type);
        });
    }
    MESSAGE(ok << " of 6000 random frames decoded to a map");
}

TEST_CASE("sized limits (W_STATE): a room over 1,024 members and events decodes, counts beyond the body do not") {
    WState big{"big", 5000};
    for (int i = 0; i < 1500; ++i) big.members.push_back("n" + std::to_string(i));
    for (std::uint64_t i = 1; i <= 1500; ++i) big.history.push_back(Event{"big", i, "message", "n1", "t", 1});
    const std::string frame = encode(big);
    Decoded d;
    CHECK(decode(frame, d) == Status::bad_request);  // the network limit would refuse it
    REQUIRE(decode_sized(frame, d) == Status::ok);
    WState back;
    REQUIRE(body_as(d, back) == Status::ok);
    CHECK(back == big);

    // Claims of more elements, or a longer string, than the body holds: refused before anything is reserved.
    const std::string members_2_24 = header(0x46) + std::string("\x81\xa7members\xdd\x01\x00\x00\x00", 13);
    CHECK(decode_sized(members_2_24, d) == Status::bad_request);
    const std::string str_bomb = header(0x46) + std::string("\x81\xa4room\xdb\x00\x10\x00\x00", 10);
    CHECK(decode_sized(str_bomb, d) == Status::bad_request);
    // Deeper than a room's state needs (4 levels).
    CHECK(decode_sized(header(0x46) + nested_body(4), d) == Status::bad_request);
    CHECK(decode_sized(header(0x46) + nested_body(3), d) == Status::ok);
}
