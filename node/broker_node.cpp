#include "node/broker_node.hpp"

#include <unistd.h>

namespace chatbus {

BrokerNode::BrokerNode(BrokerConfig cfg, NodeWorkers extra)
    : cfg_(cfg), extra_(std::move(extra)), broker_(std::move(cfg), &ctx_) {}

void BrokerNode::bind() {
    broker_.bind();
    if (cfg_.local_workers > 0 && !local_bound_) {
        broker_.bind_worker_endpoint(kLocalEndpoint);
        local_bound_ = true;
    }
}

void BrokerNode::run() {
    bind();
    WorkerConfig local;
    local.broker = kLocalEndpoint;
    // The broker's own limits, so a local worker holds rooms exactly as the broker advertises them.
    local.history = cfg_.history;
    local.max_batch = cfg_.max_batch;
    const std::string pid = "-" + std::to_string(getpid());
    workers_.start(cfg_.local_workers, local, "local", pid, &ctx_);
    WorkerConfig tcp;
    tcp.broker = broker_.endpoints().worker;
    if (!extra_.log_level.empty()) tcp.log_level = extra_.log_level;
    workers_.start(extra_.tcp, tcp, "tcp", pid);
    try {
        broker_.serve();
    } catch (...) {
        workers_.stop();
        throw;
    }
    workers_.stop();
    broker_.farewell();
}

}  // namespace chatbus
