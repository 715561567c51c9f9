#include "cli/json_writer.hpp"

namespace chatbus::cli {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong forms, surrogates
// and code points above U+10FFFF are invalid, as in RFC 3629).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    std::size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    if (b(i + 1) < lo || b(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k) {
        if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
    }
    return n;
}

}  // namespace

std::string json_quote(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size() + 2);
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            if (std::size_t n = utf8_sequence_length(s, i); n > 0) {
                out.append(s.substr(i, n));
                i += n;
            } else {
                out.append("\\ufffd");
                ++i;
            }
            continue;
        }
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    out.append("\\u00");
                    out.push_back(kHex[c >> 4]);
                    out.push_back(kHex[c & 0xF]);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out.push_back('"');
    return out;
}

JsonArray& JsonArray::add(std::string_view s) {
    return add_raw(json_quote(s));
}
JsonArray& JsonArray::add(std::uint64_t v) {
    return add_raw(std::to_string(v));
}
JsonArray& JsonArray::add_raw(std::string_view json) {
    items_.emplace_back(json);
    return *this;
}

std::string JsonArray::str() const {
    std::string out = "[";
    for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i) out.push_back(',');
        out.append(items_[i]);
    }
    out.push_back(']');
    return out;
}

JsonObject& JsonObject::add(std::string_view key, std::string_view value) {
    return add_raw(key, json_quote(value));
}
JsonObject& JsonObject::add(std::string_view key, std::uint64_t value) {
    return add_raw(key, std::to_string(value));
}
JsonObject& JsonObject::add(std::string_view key, bool value) {
    return add_raw(key, value ? "true" : "false");
}

JsonObject& JsonObject::add(std::string_view key, const std::vector<std::string>& values) {
    JsonArray a;
    for (const auto& v : values) a.add(v);
    return add(key, a);
}

JsonObject& JsonObject::add_raw(std::string_view key, std::string_view json) {
    if (!body_.empty()) body_.push_back(',');
    body_.append(json_quote(key));
    body_.push_back(':');
    body_.append(json);
    return *this;
}

std::string JsonObject::str() const {
    return "{" + body_ + "}";
}

}  // namespace chatbus::cli
