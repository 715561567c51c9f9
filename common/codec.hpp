#pragma once
// Frame codec: 4-byte header ('C' 'B' version type) + one msgpack map. Decoding never throws: every failure
// on network bytes becomes a Status the caller can answer with.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/msg_type.hpp"
#include "common/msgpack_config.hpp"
#include "common/status.hpp"

namespace chatbus {

inline constexpr char kSignature0 = 'C';
inline constexpr char kSignature1 = 'B';
inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::string_view kRoomTopicPrefix = "room/";
inline constexpr std::string_view kSyncTopicPrefix = "sync/";

// The unpack limits applied to every body read from the network (docs/protocol.md, "Decoding rules").
msgpack::unpack_limit network_unpack_limit();
// For W_STATE between broker and workers (trusted peers; a room's members and history may exceed the network
// limit): arrays, strings and binaries up to the body's size in elements or bytes (each element takes at
// least one byte), nesting depth 4. What msgpack-c reserves is then at most 4 levels x 16 bytes x the body
// size, and the socket's ZMQ_MAXMSGSIZE bounds the body.
msgpack::unpack_limit sized_unpack_limit(std::size_t body_size);

struct Decoded {
    MsgType type{};
    msgpack::object_handle body;
};

// Appends the 4-byte header of a `type` frame to `out`.
inline void append_header(std::string& out, MsgType type) {
    out.push_back(kSignature0);
    out.push_back(kSignature1);
    out.push_back(static_cast<char>(kProtocolVersion));
    out.push_back(static_cast<char>(type));
}

// A msgpack stream appending to a string: what a packer writes lands at once, so a caller may append bytes
// that are msgpack already (an EVENT body kept as published) between two of its calls.
struct StringWriter {
    std::string& s;
    void write(const char* p, std::size_t n) { s.append(p, n); }
};

// Appends the header and the msgpack body of `msg` to `out`.
template <class T>
void encode_into(std::string& out, const T& msg) {
    append_header(out, T::kType);
    StringWriter w{out};
    msgpack::pack(w, msg);
}

template <class T>
std::string encode(const T& msg) {
    std::string out;
    encode_into(out, msg);
    return out;
}

// Topic of a room's events, with its terminating zero byte.
std::string room_topic(std::string_view room);
std::string sync_topic(std::string_view nonce);

// An event frame: topic, then the encoded message.
template <class T>
std::string encode_with_topic(std::string_view topic, const T& msg) {
    std::string out(topic);
    encode_into(out, msg);
    return out;
}

// Checks the header and unpacks the body (with limits). On error `out` is unusable.
Status decode(std::string_view frame, Decoded& out);
// The same with sized_unpack_limit(): only for W_STATE frames from a trusted peer.
Status decode_sized(std::string_view frame, Decoded& out);

// Skips a topic (everything up to and including the first zero byte), then decodes.
Status decode_topic_frame(std::string_view frame, Decoded& out);

// Converts a decoded body to T; wrong types give bad_request, a different type code gives unknown_type.
template <class T>
Status body_as(const Decoded& d, T& out) noexcept {
    if (d.type != T::kType) return Status::unknown_type;
    try {
        if (d.body.get().type != msgpack::type::MAP) return Status::bad_request;
        out = T{};  // fields missing from the message take their defaults, not leftovers
        d.body.get().convert(out);
        return Status::ok;
    } catch (...) {
        return Status::bad_request;
    }
}

// The type a frame's header names: nullopt when it is short, has another signature or version, or an unknown
// type code. Reads 4 bytes only.
std::optional<MsgType> frame_type(std::string_view frame) noexcept;
// The rid an error answer to `frame` carries (docs/protocol.md, "How errors are answered"): with the
// signature, the body's first `rid` when it is an unsigned integer read before anything unreadable; else 0.
// Reads only what it must: a caller bounds an oversized frame by passing a prefix.
std::uint64_t frame_rid(std::string_view frame) noexcept;

// Best effort: the `rid` field of a decoded body, or 0.
std::uint64_t peek_rid(const Decoded& d) noexcept;
// Best effort: a string field of a decoded body, or empty.
std::string peek_string(const Decoded& d, std::string_view key) noexcept;
// The fields of a decoded body, without copying: views into the Decoded's zone, valid while it lives.
// Missing or mistyped fields give nullopt.
std::optional<std::string_view> field_str(const Decoded& d, std::string_view key) noexcept;
std::optional<std::uint64_t> field_u64(const Decoded& d, std::string_view key) noexcept;

// Decodes and converts in one step (for replies and notifications a client expects).
template <class T>
Status decode_as(std::string_view frame, T& out) noexcept {
    Decoded d;
    if (Status s = decode(frame, d); s != Status::ok) return s;
    return body_as(d, out);
}

}  // namespace chatbus
