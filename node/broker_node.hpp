#pragma once
// The composition root: a broker and the workers that run on threads of the same process. Local workers
// (broker option local-workers) reach the broker over inproc:// in its ZeroMQ context: a request reaches them
// and comes back without a TCP connection or an I/O thread on the way, two socket hops fewer per room request
// (docs/architecture.md, "Local workers"); the price is that they die with the broker, so the rooms they hold
// do not survive a broker crash. TCP workers (for the bench and the tests) connect to the broker's worker
// endpoint as worker processes would. chatbus-broker, chatbus-bench and the tests all assemble a broker here;
// the broker library itself knows no worker code.
#include <cstddef>
#include <string>

#include <zmq.hpp>

#include "broker/broker.hpp"
#include "node/worker_threads.hpp"

namespace chatbus {

struct NodeWorkers {
    // Workers over the worker endpoint's TCP, as separate processes would connect (bench, tests).
    std::size_t tcp = 0;
    std::string log_level;  // of those; empty: the process's level
};

class BrokerNode {
  public:
    // The endpoint local workers connect to, bound beside the configured worker endpoint.
    static constexpr const char* kLocalEndpoint = "inproc://chatbus-local-workers";

    // cfg.local_workers workers run over inproc://; `extra` adds TCP ones.
    explicit BrokerNode(BrokerConfig cfg, NodeWorkers extra = {});
    BrokerNode(const BrokerNode&) = delete;
    BrokerNode& operator=(const BrokerNode&) = delete;

    // Binds the broker's sockets (and the local workers' endpoint); throws zmq::error_t.
    void bind();
    const BrokerEndpoints& endpoints() const { return broker_.endpoints(); }
    // Starts the workers, serves until stop(), then stops the workers before the broker says goodbye to the
    // others: told W_DISCONNECT, ours would try to reconnect to a broker that is going away.
    void run();
    // Thread- and signal-safe.
    void stop() { broker_.stop(); }

  private:
    BrokerConfig cfg_;
    NodeWorkers extra_;
    zmq::context_t ctx_{1};
    Broker broker_;          // after ctx_: its sockets close before the context ends
    WorkerThreads workers_;  // after broker_: stopped (and their sockets closed) first
    bool local_bound_ = false;
};

}  // namespace chatbus
