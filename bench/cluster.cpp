#include "bench/cluster.hpp"

#include <spdlog/spdlog.h>

#include "node/broker_node.hpp"

namespace bench {

Cluster::Cluster(const Options& o, std::string link) : link_(std::move(link)) {
    if (!o.broker.empty()) {
        client_ = o.broker;
        return;
    }
    chatbus::BrokerConfig bc;
    bc.client = "tcp://127.0.0.1:*";
    bc.worker = "tcp://127.0.0.1:*";
    const bool local = link_ == "local";
    if (local) bc.local_workers = static_cast<std::size_t>(o.workers);
    bc.events = "tcp://127.0.0.1:*";
    // A benchmark is a flood by design: measure the system, not its flood limits.
    bc.client_rate = bc.nick_rate = 0;
    bc.max_clients = bc.max_rooms_per_nick = bc.max_room_members = 0;
    // The raw baseline's XPUB high-water mark; the default 30,000 drops events for a subscriber ~20,000
    // behind, which the fan-out credit allows (architecture.md, "Slow subscribers").
    bc.events_hwm = 100000;
    chatbus::NodeWorkers tcp{local ? 0 : static_cast<std::size_t>(o.workers), "warn"};
    node_ = std::make_unique<chatbus::BrokerNode>(bc, tcp);
    node_->bind();
    client_ = node_->endpoints().client;
    thread_ = std::thread([n = node_.get()] { n->run(); });
    spdlog::debug("in-process broker at {}", client_);
}

Cluster::~Cluster() {
    if (node_) node_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace bench
