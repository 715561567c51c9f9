#include "local_workers.hpp"

#include <unistd.h>

#include "worker.hpp"

namespace chatbus {

LocalWorkers::LocalWorkers() = default;

LocalWorkers::~LocalWorkers() {
    stop();
}

void LocalWorkers::start(zmq::context_t& ctx, const BrokerConfig& cfg) {
    for (std::size_t i = 0; i < cfg.local_workers; ++i) {
        WorkerConfig wc;
        wc.broker = kEndpoint;
        // The broker's own limits, so a local worker holds rooms exactly as the broker advertises them.
        wc.history = cfg.history;
        wc.max_batch = cfg.max_batch;
        wc.id = "local" + std::to_string(i) + "-" + std::to_string(getpid());
        workers_.push_back(std::make_unique<Worker>(wc, &ctx));
        threads_.emplace_back([w = workers_.back().get()] { w->run(); });
    }
}

void LocalWorkers::stop() {
    for (auto& w : workers_) w->stop_now();
    for (auto& t : threads_) t.join();
    threads_.clear();
    workers_.clear();
}

}  // namespace chatbus
