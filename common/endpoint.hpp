#pragma once
// Endpoints handed to peers: a wildcard bind address is useless to a peer, so it gets the host the peer
// already used to reach the broker.
#include <string>
#include <string_view>

namespace chatbus {

// "tcp://*:5558" seen through "tcp://10.0.0.1:5555" -> "tcp://10.0.0.1:5558". Other endpoints unchanged.
std::string resolve_advertised(std::string_view advertised, std::string_view reached_via);
// The host part of a tcp:// endpoint, or empty.
std::string endpoint_host(std::string_view endpoint);

}  // namespace chatbus
