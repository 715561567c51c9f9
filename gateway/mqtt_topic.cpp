#include "gateway/mqtt_topic.hpp"

#include "gateway/mqtt_utf8.hpp"

namespace chatbus::mqtt {
namespace {

bool valid_utf8_of_size(std::string_view s, std::size_t max_bytes) {
    return !s.empty() && s.size() <= max_bytes && s.size() <= kMaxStringLength && valid_mqtt_utf8(s);
}

// The level starting at `from` (up to the next '/' or the end) and where the next one starts (npos: none).
std::string_view level_at(std::string_view s, std::size_t from, std::size_t& next) {
    const std::size_t slash = s.find('/', from);
    next = slash == std::string_view::npos ? slash : slash + 1;
    return s.substr(from, slash == std::string_view::npos ? std::string_view::npos : slash - from);
}

}  // namespace

bool valid_topic_name(std::string_view topic, std::size_t max_bytes) {
    return valid_utf8_of_size(topic, max_bytes) && topic.find_first_of("+#") == std::string_view::npos;
}

bool valid_topic_filter(std::string_view filter, std::size_t max_bytes) {
    if (!valid_utf8_of_size(filter, max_bytes)) return false;
    std::size_t from = 0;
    while (from != std::string_view::npos) {
        std::size_t next = 0;
        const std::string_view level = level_at(filter, from, next);
        if (level.find_first_of("+#") != std::string_view::npos && level != "+" && level != "#") return false;
        if (level == "#" && next != std::string_view::npos) return false;
        from = next;
    }
    return true;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#')) {
        return false;
    }
    std::size_t f = 0, t = 0;
    for (;;) {
        std::size_t f_next = 0, t_next = 0;
        const std::string_view f_level = level_at(filter, f, f_next);
        if (f_level == "#") return true;
        const std::string_view t_level = level_at(topic, t, t_next);
        if (f_level != "+" && f_level != t_level) return false;
        if (f_next == std::string_view::npos) return t_next == std::string_view::npos;
        // The topic has no more levels: only a final "#" still matches (it covers the parent level).
        if (t_next == std::string_view::npos) return filter.substr(f_next) == "#";
        f = f_next;
        t = t_next;
    }
}

}  // namespace chatbus::mqtt
