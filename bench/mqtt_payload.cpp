#include "bench/mqtt_payload.hpp"

#include <charconv>

namespace bench {

std::string mqtt_payload(std::uint64_t seq, std::int64_t ts_ns, std::size_t size) {
    std::string p = std::to_string(ts_ns);
    p.push_back(' ');
    p += std::to_string(seq);
    p.push_back(' ');
    if (p.size() < size) p.append(size - p.size(), 'x');
    return p;
}

bool read_mqtt_payload(std::string_view p, std::uint64_t& seq, std::int64_t& ts_ns) {
    const char* end = p.data() + p.size();
    auto [after_ts, e1] = std::from_chars(p.data(), end, ts_ns);
    if (e1 != std::errc{} || after_ts == end || *after_ts != ' ') return false;
    auto [after_seq, e2] = std::from_chars(after_ts + 1, end, seq);
    return e2 == std::errc{} && after_seq != end && *after_seq == ' ';
}

std::string_view gateway_event_text(std::string_view json) {
    constexpr std::string_view key = "\"text\":\"";
    auto at = json.find(key);
    if (at == std::string_view::npos) return {};
    json.remove_prefix(at + key.size());
    auto q = json.find('"');
    return q == std::string_view::npos ? std::string_view{} : json.substr(0, q);
}

}  // namespace bench
