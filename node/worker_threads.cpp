#include "node/worker_threads.hpp"

#include "worker/worker.hpp"

namespace chatbus {

WorkerThreads::WorkerThreads() = default;

WorkerThreads::~WorkerThreads() {
    stop();
}

void WorkerThreads::start(std::size_t n, const WorkerConfig& base, const std::string& prefix,
                          const std::string& suffix, zmq::context_t* ctx) {
    for (std::size_t i = 0; i < n; ++i) {
        WorkerConfig wc = base;
        wc.id = prefix + std::to_string(i) + suffix;
        workers_.push_back(std::make_unique<Worker>(wc, ctx));
        threads_.emplace_back([w = workers_.back().get()] { w->run(); });
    }
}

void WorkerThreads::stop() {
    for (auto& w : workers_) w->stop_now();
    for (auto& t : threads_) t.join();
    threads_.clear();
    workers_.clear();
}

}  // namespace chatbus
