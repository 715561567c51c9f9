#pragma once
// Workers inside the broker's process (broker option local-workers). They are ordinary chatbus::Worker
// objects on their own threads, speaking the same worker protocol, but over inproc:// in the broker's ZeroMQ
// context: a request reaches them and comes back without a TCP connection or an I/O thread on the way,
// two socket hops fewer per room request (docs/architecture.md, "Local workers"). The price: they die with
// the broker, so the rooms they hold do not survive a broker crash.
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "broker_config.hpp"

namespace chatbus {

class Worker;

class LocalWorkers {
  public:
    // The broker's worker ROUTER binds this as well as its configured endpoint.
    static constexpr const char* kEndpoint = "inproc://chatbus-local-workers";

    LocalWorkers();
    ~LocalWorkers();
    LocalWorkers(const LocalWorkers&) = delete;
    LocalWorkers& operator=(const LocalWorkers&) = delete;

    // Starts cfg.local_workers workers connected to kEndpoint in `ctx`, which must outlive stop().
    void start(zmq::context_t& ctx, const BrokerConfig& cfg);
    // Returns once every worker thread has ended (at once: the broker is stopping, there is nobody to
    // drain to). Idempotent.
    void stop();
    std::size_t size() const { return workers_.size(); }

  private:
    std::vector<std::unique_ptr<Worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace chatbus
