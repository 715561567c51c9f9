#include "common/codec.hpp"

#include <algorithm>
#include <memory>

#include "common/msgpack_peek.hpp"

namespace chatbus {

msgpack::unpack_limit network_unpack_limit() {
    // array, map, str, bin, ext, depth
    return msgpack::unpack_limit(1024, 1024, 65536, 65536, 1024, 16);
}

msgpack::unpack_limit sized_unpack_limit(std::size_t body_size) {
    // msgpack-c allocates an array's elements when it reads the count, before they arrive: with counts up to
    // the body's size, only nesting multiplies that. W_STATE needs depth 3 (map, history array, event map).
    const std::size_t n = std::max<std::size_t>(body_size, 1024);
    return msgpack::unpack_limit(n, 1024, n, n, 1024, 4);
}

std::string room_topic(std::string_view room) {
    std::string t(kRoomTopicPrefix);
    t.append(room);
    t.push_back('\0');
    return t;
}

std::string sync_topic(std::string_view nonce) {
    std::string t(kSyncTopicPrefix);
    t.append(nonce);
    t.push_back('\0');
    return t;
}

namespace {

Status decode_with(std::string_view frame, Decoded& out, const msgpack::unpack_limit& limit) {
    if (frame.size() < kHeaderSize || frame[0] != kSignature0 || frame[1] != kSignature1) {
        return Status::bad_request;
    }
    if (static_cast<std::uint8_t>(frame[2]) != kProtocolVersion) return Status::bad_version;
    auto type = msg_type_from_wire(static_cast<std::uint8_t>(frame[3]));
    if (!type) return Status::unknown_type;
    out.type = *type;
    try {
        std::size_t off = 0;
        std::size_t len = frame.size() - kHeaderSize;
        // A zone sized to the body: msgpack's default 8 KiB first chunk made every small request pay a
        // large malloc and free; a body that needs more grows the zone as before.
        auto zone = std::make_unique<msgpack::zone>(std::clamp<std::size_t>(2 * len + 128, 256, 8192));
        msgpack::object obj = msgpack::unpack(*zone, frame.data() + kHeaderSize, len, off, nullptr, nullptr,
                                              limit);
        out.body = msgpack::object_handle(obj, std::move(zone));
        // Trailing bytes after the map mean the frame is not what it claims to be.
        if (off != frame.size() - kHeaderSize) return Status::bad_request;
    } catch (...) {
        return Status::bad_request;
    }
    if (out.body.get().type != msgpack::type::MAP) return Status::bad_request;
    return Status::ok;
}

}  // namespace

Status decode(std::string_view frame, Decoded& out) { return decode_with(frame, out, network_unpack_limit()); }

Status decode_sized(std::string_view frame, Decoded& out) {
    const std::size_t body = frame.size() > kHeaderSize ? frame.size() - kHeaderSize : 0;
    return decode_with(frame, out, sized_unpack_limit(body));
}

Status decode_topic_frame(std::string_view frame, Decoded& out) {
    auto z = frame.find('\0');
    if (z == std::string_view::npos) return Status::bad_request;
    return decode(frame.substr(z + 1), out);
}

namespace {

const msgpack::object* find_field(const Decoded& d, std::string_view key) noexcept {
    const msgpack::object& o = d.body.get();
    if (o.type != msgpack::type::MAP) return nullptr;
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& kv = o.via.map.ptr[i];
        if (kv.key.type == msgpack::type::STR &&
            std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
            return &kv.val;
        }
    }
    return nullptr;
}

}  // namespace

std::optional<MsgType> frame_type(std::string_view frame) noexcept {
    if (frame.size() < kHeaderSize || frame[0] != kSignature0 || frame[1] != kSignature1 ||
        static_cast<std::uint8_t>(frame[2]) != kProtocolVersion) {
        return std::nullopt;
    }
    return msg_type_from_wire(static_cast<std::uint8_t>(frame[3]));
}

std::uint64_t frame_rid(std::string_view frame) noexcept {
    // Any version: a client of another version still learns which request was refused, if its body is a map.
    if (frame.size() < kHeaderSize || frame[0] != kSignature0 || frame[1] != kSignature1) return 0;
    return peek_map_u64(frame.substr(kHeaderSize), "rid").value_or(0);
}

std::uint64_t peek_rid(const Decoded& d) noexcept { return field_u64(d, "rid").value_or(0); }

std::string peek_string(const Decoded& d, std::string_view key) noexcept {
    return std::string(field_str(d, key).value_or(std::string_view{}));
}

std::optional<std::string_view> field_str(const Decoded& d, std::string_view key) noexcept {
    const auto* v = find_field(d, key);
    if (!v || v->type != msgpack::type::STR) return std::nullopt;
    return std::string_view(v->via.str.ptr, v->via.str.size);
}

std::optional<std::uint64_t> field_u64(const Decoded& d, std::string_view key) noexcept {
    const auto* v = find_field(d, key);
    if (!v || v->type != msgpack::type::POSITIVE_INTEGER) return std::nullopt;
    return v->via.u64;
}

}  // namespace chatbus
