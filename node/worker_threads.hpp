#pragma once
// Workers on threads of this process: ordinary chatbus::Worker objects, each running its own loop, stopped
// together.
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "worker/worker_config.hpp"

namespace chatbus {

class Worker;

class WorkerThreads {
  public:
    WorkerThreads();
    ~WorkerThreads();
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;

    // Starts `n` workers configured as `base`, with ids `prefix` + index + `suffix`. With `ctx`, their
    // sockets live in it (it must outlive stop()): required for an inproc:// broker endpoint.
    void start(std::size_t n, const WorkerConfig& base, const std::string& prefix, const std::string& suffix,
               zmq::context_t* ctx = nullptr);
    // Returns once every worker thread has ended (at once: nothing is drained). Idempotent.
    void stop();
    std::size_t size() const { return workers_.size(); }

  private:
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace chatbus
