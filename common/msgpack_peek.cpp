#include "common/msgpack_peek.hpp"

#include "common/event_view.hpp"

namespace chatbus {
namespace {

// The limits of network_unpack_limit() (codec.cpp), which decode() applies.
constexpr std::uint64_t kMaxArray = 1024, kMaxMap = 1024, kMaxStr = 65536, kMaxBin = 65536, kMaxExt = 1024;
constexpr int kMaxDepth = 16;

struct Cursor {
    const unsigned char* p;
    const unsigned char* end;

    bool take(std::uint64_t n) {
        if (static_cast<std::uint64_t>(end - p) < n) return false;
        p += n;
        return true;
    }
    bool be(int n, std::uint64_t& v) {
        if (end - p < n) return false;
        v = 0;
        for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
        p += n;
        return true;
    }
    bool str_body(std::uint64_t n, std::string_view* out) {
        if (n > kMaxStr || static_cast<std::uint64_t>(end - p) < n) return false;
        if (out) *out = std::string_view(reinterpret_cast<const char*>(p), n);
        p += n;
        return true;
    }
    // A str value; false if the next value is not a (well-formed) str. Does not move on failure.
    bool str(std::string_view& out) {
        const unsigned char* start = p;
        if (p >= end) return false;
        unsigned char t = *p++;
        std::uint64_t n = 0;
        bool ok;
        if ((t & 0xe0) == 0xa0) {
            ok = str_body(t & 0x1f, &out);
        } else if (t >= 0xd9 && t <= 0xdb) {
            ok = be(1 << (t - 0xd9), n) && str_body(n, &out);
        } else {
            ok = false;
        }
        if (!ok) p = start;
        return ok;
    }
    // A non-negative integer value, as msgpack-c reads it (signed encodings of values >= 0 included).
    bool uint(std::uint64_t& out) {
        const unsigned char* start = p;
        if (p >= end) return false;
        unsigned char t = *p++;
        bool ok = false;
        if (t < 0x80) {
            out = t;
            ok = true;
        } else if (t >= 0xcc && t <= 0xcf) {
            ok = be(1 << (t - 0xcc), out);
        } else if (t >= 0xd0 && t <= 0xd3) {
            int n = 1 << (t - 0xd0);
            std::uint64_t raw = 0;
            // Negative values have the top bit set in their encoding.
            ok = be(n, raw) && (raw >> (8 * n - 1)) == 0;
            out = raw;
        }
        if (!ok) p = start;
        return ok;
    }
    bool skip(int depth);
    bool skip_n(std::uint64_t n, int depth) {
        for (std::uint64_t i = 0; i < n; ++i) {
            if (!skip(depth)) return false;
        }
        return true;
    }
};

bool Cursor::skip(int depth) {
    if (p >= end) return false;
    unsigned char t = *p++;
    std::uint64_t n = 0;
    if (t < 0x80 || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return true;
    if ((t & 0xe0) == 0xa0) return str_body(t & 0x1f, nullptr);
    if ((t & 0xf0) == 0x90 || (t & 0xf0) == 0x80) {
        if (depth >= kMaxDepth) return false;
        n = t & 0x0f;
        return (t & 0xf0) == 0x90 ? skip_n(n, depth + 1) : skip_n(2 * n, depth + 1);
    }
    switch (t) {
        case 0xcc: case 0xd0: return take(1);
        case 0xcd: case 0xd1: return take(2);
        case 0xce: case 0xd2: case 0xca: return take(4);
        case 0xcf: case 0xd3: case 0xcb: return take(8);
        case 0xd9: case 0xda: case 0xdb: return be(1 << (t - 0xd9), n) && str_body(n, nullptr);
        case 0xc4: case 0xc5: case 0xc6: return be(1 << (t - 0xc4), n) && n <= kMaxBin && take(n);
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return take(1 + (1u << (t - 0xd4)));
        case 0xc7: case 0xc8: case 0xc9: return be(1 << (t - 0xc7), n) && n <= kMaxExt && take(1 + n);
        case 0xdc: case 0xdd:
            return depth < kMaxDepth && be(t == 0xdc ? 2 : 4, n) && n <= kMaxArray && skip_n(n, depth + 1);
        case 0xde: case 0xdf:
            return depth < kMaxDepth && be(t == 0xde ? 2 : 4, n) && n <= kMaxMap && skip_n(2 * n, depth + 1);
        default:
            return false;  // 0xc1: never used
    }
}

Cursor cursor_of(std::string_view body) {
    auto* p = reinterpret_cast<const unsigned char*>(body.data());
    return Cursor{p, p + body.size()};
}

// Reads a map header: its entry count, within the limit.
bool map_header(Cursor& c, std::uint64_t& n) {
    if (c.p >= c.end) return false;
    unsigned char t = *c.p++;
    if ((t & 0xf0) == 0x80) {
        n = t & 0x0f;
        return true;
    }
    return (t == 0xde || t == 0xdf) && c.be(t == 0xde ? 2 : 4, n) && n <= kMaxMap;
}

}  // namespace

bool peek_event(std::string_view body, EventView& out) noexcept {
    out = {};
    Cursor c = cursor_of(body);
    std::uint64_t n = 0;
    if (!map_header(c, n)) return false;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string_view key;
        if (!c.str(key)) {
            if (!c.skip(1) || !c.skip(1)) return false;
            continue;
        }
        // The first occurrence of a key counts, as with field_str(); a mistyped one fails the read.
        bool ok = true;
        if (key == "room" && !out.have_room) {
            ok = out.have_room = c.str(out.room);
        } else if (key == "kind" && !out.have_kind) {
            ok = out.have_kind = c.str(out.kind);
        } else if (key == "nick" && !out.have_nick) {
            ok = out.have_nick = c.str(out.nick);
        } else if (key == "text" && !out.have_text) {
            // Only subscribers read it: a mistyped text is skipped, not refused, as the broker always did.
            out.have_text = c.str(out.text);
            if (!out.have_text) ok = c.skip(1);
        } else if (key == "seq" && !out.have_seq) {
            ok = out.have_seq = c.uint(out.seq);
        } else {
            ok = c.skip(1);
        }
        if (!ok) return false;
    }
    return c.p == c.end;
}

std::optional<std::uint64_t> peek_map_u64(std::string_view body, std::string_view key) noexcept {
    Cursor c = cursor_of(body);
    std::uint64_t n = 0;
    if (!map_header(c, n)) return std::nullopt;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string_view k;
        const bool str_key = c.str(k);
        if (str_key && k == key) {
            std::uint64_t v = 0;
            if (!c.uint(v)) return std::nullopt;  // the first occurrence counts, as with field_u64()
            return v;
        }
        // A key that is not a str is skipped here (decode() refuses it, but the entries before it were read).
        if ((!str_key && !c.skip(1)) || !c.skip(1)) return std::nullopt;
    }
    return std::nullopt;
}

bool msgpack_well_formed(std::string_view body) noexcept {
    Cursor c = cursor_of(body);
    return c.skip(0) && c.p == c.end;
}

}  // namespace chatbus
