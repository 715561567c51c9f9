#include "cluster.hpp"

#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "worker.hpp"

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
    broker_ = std::make_unique<chatbus::Broker>(bc);
    broker_->bind();
    client_ = broker_->endpoints().client;
    threads_.emplace_back([b = broker_.get()] { b->run(); });
    for (int i = 0; i < (local ? 0 : o.workers); ++i) {
        chatbus::WorkerConfig wc;
        wc.broker = broker_->endpoints().worker;
        wc.id = "bench-w" + std::to_string(i);
        wc.log_level = "warn";
        workers_.push_back(std::make_unique<chatbus::Worker>(wc));
        threads_.emplace_back([w = workers_.back().get()] { w->run(); });
    }
    spdlog::debug("in-process broker at {}", client_);
}

Cluster::~Cluster() {
    for (auto& w : workers_) w->stop_now();
    if (broker_) broker_->stop();
    for (auto& t : threads_) t.join();
}

}  // namespace bench
