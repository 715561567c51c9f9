// CURVE on the broker's three sockets, when configured: all become CURVE servers with the broker's key, and
// the ZAP handler lets in only listed keys, clients and workers in separate ZAP domains so a client key
// cannot join as a worker nor a worker key act as a client. Gateway keys are client keys whose connections
// may also claim the gateway role.
#include <set>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include "broker/broker.hpp"
#include "common/curve.hpp"

namespace chatbus {

void Broker::setup_curve() {
    if (cfg_.curve_key.empty()) {
        if (cfg_.bind_nicks_to_keys) throw std::runtime_error("bind-nicks-to-keys needs curve-key");
        if (!cfg_.client_keys.empty() || !cfg_.worker_keys.empty() || !cfg_.gateway_keys.empty()) {
            throw std::runtime_error("client-keys, worker-keys and gateway-keys need curve-key");
        }
        return;
    }
    if (cfg_.client_keys.empty() || cfg_.worker_keys.empty()) {
        throw std::runtime_error("curve-key needs client-keys and worker-keys (directories of *.pub files)");
    }
    const CurveKeyPair own = read_key_file(cfg_.curve_key);
    std::set<std::string> clients;
    for (const std::string& k : read_public_keys(cfg_.client_keys)) clients.insert(k);
    const std::size_t client_keys = clients.size();
    std::set<std::string> gateways;
    if (!cfg_.gateway_keys.empty()) {
        for (const std::string& k : read_public_keys(cfg_.gateway_keys)) gateways.insert(k);
    }
    // Gateways connect where clients do; the handler marks their connections as gateway keys.
    clients.insert(gateways.begin(), gateways.end());
    const auto workers = read_public_keys(cfg_.worker_keys);
    // Before any socket binds: libzmq lets every key in while no handler is bound.
    zap_ = std::make_unique<ZapHandler>(
        ctx_,
        ZapHandler::AllowList{{kZapDomainClients, std::move(clients)},
                              {kZapDomainWorkers, {workers.begin(), workers.end()}}},
        gateways);
    make_curve_server(client_, own, kZapDomainClients);
    make_curve_server(xpub_, own, kZapDomainClients);
    make_curve_server(worker_, own, kZapDomainWorkers);
    registry_.bind_keys(cfg_.bind_nicks_to_keys);
    spdlog::info("CURVE on: broker key {}, {} client keys, {} gateway keys, {} worker keys{}", own.public_key,
                 client_keys, gateways.size(), workers.size(),
                 cfg_.bind_nicks_to_keys ? ", nicks bound to keys" : "");
}

}  // namespace chatbus
