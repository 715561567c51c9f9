#include "common/names.hpp"

#include <cstdint>
#include <cstring>

namespace chatbus {
namespace {

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Length of the UTF-8 sequence starting at s[i] that decodes to a valid scalar value, or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::uint32_t& cp) {
    auto b = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
    std::uint8_t c = b(0);
    std::size_t len;
    std::uint32_t min;
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

// True when all eight bytes at p are in 0x20..0x7E (SWAR: no byte has the top bit set, none is below 0x20,
// none is 0x7F). Each test is exact once the top bits are known to be clear.
bool printable_ascii8(const char* p) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (w & highs) return false;
    if ((w - 0x20 * ones) & ~w & highs) return false;
    std::uint64_t x = w ^ (0x7F * ones);
    return ((x - ones) & ~x & highs) == 0;
}

}  // namespace

bool valid_nick(std::string_view nick) {
    if (nick.empty() || nick.size() > kMaxNickLength || !is_alpha(nick[0])) return false;
    for (char c : nick) {
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-') return false;
    }
    return true;
}

bool reserved_nick(std::string_view nick) {
    static constexpr std::string_view kReserved[] = {"admin",  "administrator", "broker", "chatbus",
                                                     "nobody", "operator",      "root",   "server",
                                                     "system", "worker"};
    std::string folded = fold_name(nick);
    for (std::string_view r : kReserved) {
        if (folded == r) return true;
    }
    return false;
}

bool valid_room(std::string_view room) {
    if (room.empty() || room.size() > kMaxRoomLength) return false;
    if (!is_alpha(room[0]) && !is_digit(room[0])) return false;
    for (char c : room) {
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.') return false;
    }
    return true;
}

std::string fold_name(std::string_view name) {
    std::string out(name);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

Status text_status(std::string_view text, std::size_t max_bytes) {
    if (text.size() > max_bytes) return Status::text_too_long;
    return valid_text(text, max_bytes) ? Status::ok : Status::invalid_text;
}

bool valid_text(std::string_view text, std::size_t max_bytes) {
    if (text.empty() || text.size() > max_bytes) return false;
    for (std::size_t i = 0; i < text.size();) {
        // Most text is printable ASCII: eight bytes at a time while it is, then byte by byte.
        if (i + 8 <= text.size() && printable_ascii8(text.data() + i)) {
            i += 8;
            continue;
        }
        auto b = static_cast<std::uint8_t>(text[i]);
        if (b >= 0x20 && b < 0x7F) {
            ++i;
            continue;
        }
        std::uint32_t cp = 0;
        std::size_t n = utf8_sequence(text, i, cp);
        if (n == 0) return false;
        if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F) return false;
        i += n;
    }
    return true;
}

}  // namespace chatbus
