#include "broker/zap_handler.hpp"

#include <array>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/socket_util.hpp"

namespace chatbus {

namespace {
// Space is not in the Z85 alphabet, so no client key's User-Id can start with it.
constexpr std::string_view kGatewayPrefix = "gateway ";
}  // namespace

CurvePeer curve_peer(std::string_view user_id) {
    if (user_id.starts_with(kGatewayPrefix)) return {user_id.substr(kGatewayPrefix.size()), true};
    return {user_id, false};
}

ZapHandler::ZapHandler(zmq::context_t& ctx, AllowList allowed, std::set<std::string> gateways)
    : allowed_(std::move(allowed)), gateways_(std::move(gateways)), sock_(ctx, zmq::socket_type::rep) {
    sock_.set(zmq::sockopt::linger, 0);
    sock_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::handle_pending() {
    std::vector<zmq::message_t> req;
    // Bounded per call so a handshake storm cannot starve the broker's other sockets.
    for (int n = 0; n < 256 && recv_multipart(sock_, req); ++n) {
        // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
        std::string_view request_id = req.size() > 1 ? view(req[1]) : std::string_view{};
        if (req.size() < 6 || view(req[0]) != "1.0") {
            ++refused_malformed_;
            send_frames(sock_, {"1.0", request_id, "500", "malformed ZAP request", "", ""});
            continue;
        }
        const std::string domain(view(req[2]));
        const std::string_view address = view(req[3]), mechanism = view(req[5]);
        std::array<char, 41> z85{};
        const bool curve_key = mechanism == "CURVE" && req.size() == 7 && req[6].size() == 32 &&
                               zmq_z85_encode(z85.data(), req[6].data<std::uint8_t>(), 32) != nullptr;
        auto listed = allowed_.find(domain);
        if (curve_key && listed != allowed_.end() && listed->second.count(z85.data())) {
            ++accepted_;
            const bool gateway = gateways_.count(z85.data()) > 0;
            spdlog::debug("ZAP: {} {}key {} from {} accepted", domain, gateway ? "gateway " : "", z85.data(),
                          address);
            // The key becomes the connection's User-Id, which every message from it carries.
            std::string user_id(gateway ? kGatewayPrefix : std::string_view{});
            user_id.append(z85.data(), 40);
            send_frames(sock_, {"1.0", request_id, "200", "OK", user_id, ""});
        } else {
            ++refused_unknown_key_;
            spdlog::info("ZAP: {} {} key {} from {} refused: not listed", domain, mechanism,
                         curve_key ? z85.data() : "(none)", address);
            send_frames(sock_, {"1.0", request_id, "400", "key not listed", "", ""});
        }
    }
}

}  // namespace chatbus
