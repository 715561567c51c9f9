#include "common/endpoint.hpp"

namespace chatbus {
namespace {

constexpr std::string_view kTcp = "tcp://";

bool is_wildcard(std::string_view host) {
    return host == "*" || host == "0.0.0.0" || host == "[::]";
}

}  // namespace

std::string endpoint_host(std::string_view endpoint) {
    if (!endpoint.starts_with(kTcp)) return {};
    std::string_view rest = endpoint.substr(kTcp.size());
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return {};
    return std::string(rest.substr(0, colon));
}

std::string resolve_advertised(std::string_view advertised, std::string_view reached_via) {
    std::string host = endpoint_host(advertised);
    std::string via = endpoint_host(reached_via);
    if (!is_wildcard(host) || via.empty() || is_wildcard(via)) return std::string(advertised);
    std::string_view port = advertised.substr(advertised.rfind(':'));
    return std::string(kTcp) + via + std::string(port);
}

}  // namespace chatbus
