#include "worker/event_frame.hpp"

#include <cstring>

#include "common/codec.hpp"

namespace chatbus {
namespace {

// msgpack's smallest encodings, as msgpack-c's packer chooses them. The frame's size is computed first and
// the bytes written through a pointer: appending piece by piece cost more than msgpack::pack itself.
std::size_t str_size(std::size_t n) {
    return n + (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
}

std::size_t uint_size(std::uint64_t v) {
    return v < 128 ? 1 : v < 256 ? 2 : v < 65536 ? 3 : v < (std::uint64_t{1} << 32) ? 5 : 9;
}

char* put_be(char* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<char>((v >> (8 * i)) & 0xff);
    return p;
}

char* put_str(char* p, std::string_view s) {
    std::size_t n = s.size();
    if (n < 32) {
        *p++ = static_cast<char>(0xa0 | n);
    } else if (n < 256) {
        *p++ = static_cast<char>(0xd9);
        p = put_be(p, n, 1);
    } else if (n < 65536) {
        *p++ = static_cast<char>(0xda);
        p = put_be(p, n, 2);
    } else {
        *p++ = static_cast<char>(0xdb);
        p = put_be(p, n, 4);
    }
    std::memcpy(p, s.data(), n);
    return p + n;
}

char* put_uint(char* p, std::uint64_t v) {
    if (v < 128) {
        *p++ = static_cast<char>(v);
        return p;
    }
    if (v < 256) {
        *p++ = static_cast<char>(0xcc);
        return put_be(p, v, 1);
    }
    if (v < 65536) {
        *p++ = static_cast<char>(0xcd);
        return put_be(p, v, 2);
    }
    if (v < (std::uint64_t{1} << 32)) {
        *p++ = static_cast<char>(0xce);
        return put_be(p, v, 4);
    }
    *p++ = static_cast<char>(0xcf);
    return put_be(p, v, 8);
}

}  // namespace

void encode_event_frame(std::string& out, const Event& e) {
    // The keys and the order of MSGPACK_DEFINE_MAP(room, seq, kind, nick, text, ts) in messages.hpp.
    constexpr std::string_view kRoom = "room", kSeq = "seq", kKind = "kind", kNick = "nick", kText = "text",
                               kTs = "ts";
    std::size_t size = kRoomTopicPrefix.size() + e.room.size() + 1 + kHeaderSize + 1 + str_size(kRoom.size()) +
                       str_size(e.room.size()) + str_size(kSeq.size()) + uint_size(e.seq) +
                       str_size(kKind.size()) + str_size(e.kind.size()) + str_size(kNick.size()) +
                       str_size(e.nick.size()) + str_size(kText.size()) + str_size(e.text.size()) +
                       str_size(kTs.size()) + uint_size(e.ts);
    out.resize(size);
    char* p = out.data();
    std::memcpy(p, kRoomTopicPrefix.data(), kRoomTopicPrefix.size());
    p += kRoomTopicPrefix.size();
    std::memcpy(p, e.room.data(), e.room.size());
    p += e.room.size();
    *p++ = '\0';
    *p++ = kSignature0;
    *p++ = kSignature1;
    *p++ = static_cast<char>(kProtocolVersion);
    *p++ = static_cast<char>(Event::kType);
    *p++ = static_cast<char>(0x86);  // a map of six
    p = put_str(p, kRoom);
    p = put_str(p, e.room);
    p = put_str(p, kSeq);
    p = put_uint(p, e.seq);
    p = put_str(p, kKind);
    p = put_str(p, e.kind);
    p = put_str(p, kNick);
    p = put_str(p, e.nick);
    p = put_str(p, kText);
    p = put_str(p, e.text);
    p = put_str(p, kTs);
    put_uint(p, e.ts);
}

}  // namespace chatbus
