#pragma once
// rr's pieces shared by its chatbus side (rr.cpp) and its raw baselines (rr_raw.cpp).
#include <cstdint>
#include <functional>

#include <zmq.hpp>

#include "bench/report.hpp"

namespace bench {

struct RrPlan {
    int inflight;
    double seconds, warmup_s;
};

// Keeps `inflight` requests outstanding on `s` for the plan's duration; latency per request by rid. `parse`
// returns false for a reply that is not a success, which counts as lost.
Result drive_requests(const char* system, const RrPlan& p, zmq::socket_t& s,
                      const std::function<void(std::uint64_t)>& send,
                      const std::function<bool(const zmq::message_t&, std::uint64_t&)>& parse);

// DEALER → ROUTER that echoes: the one hop each way of a request the broker answers itself.
Result raw_echo_rr(const RrPlan& p, std::size_t size);
// DEALER → ROUTER/DEALER zmq_proxy → echo DEALER: the two hops each way of a request a worker answers.
Result raw_proxy_rr(const RrPlan& p, std::size_t size);

}  // namespace bench
