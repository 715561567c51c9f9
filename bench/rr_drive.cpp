#include <vector>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/rr.hpp"

namespace bench {

Result drive_requests(const char* system, const RrPlan& p, zmq::socket_t& s,
                      const std::function<void(std::uint64_t)>& send,
                      const std::function<bool(const zmq::message_t&, std::uint64_t&)>& parse) {
    constexpr std::size_t kRing = 1 << 12;
    CpuMeter cpu;
    std::vector<std::int64_t> sent_at(kRing), samples;
    samples.reserve(1 << 20);
    std::uint64_t next = 1, done = 0, failed = 0;
    const std::int64_t t0 = now_ns(), warm = t0 + static_cast<std::int64_t>(p.warmup_s * 1e9),
                       end = t0 + static_cast<std::int64_t>(p.seconds * 1e9);
    std::int64_t last = t0;
    zmq::message_t m;
    while (true) {
        std::int64_t now = now_ns();
        std::uint64_t outstanding = next - 1 - done - failed;
        if (now < end && outstanding < static_cast<std::uint64_t>(p.inflight)) {
            sent_at[next % kRing] = now;
            send(next++);
            continue;
        }
        if (outstanding == 0) break;
        if (now - last > 5'000'000'000) {
            spdlog::error("rr: no reply for 5 s");
            failed += outstanding;
            break;
        }
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(100));
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            std::uint64_t rid = 0;
            if (!parse(m, rid)) {
                ++failed;
                continue;
            }
            last = now_ns();
            ++done;
            if (sent_at[rid % kRing] >= warm) samples.push_back(last - sent_at[rid % kRing]);
        }
    }
    Result r;
    r.system = system;
    r.workload = "rr";
    r.inflight = p.inflight;
    r.sent = next - 1;
    r.delivered = done;
    r.lost = r.sent - done;
    r.wall_s = static_cast<double>(last - t0) / 1e9;
    r.rate = r.wall_s > 0 ? static_cast<double>(done) / r.wall_s : 0;
    r.unit = "replies/s";
    r.lat = percentiles(samples);
    add_cpu(r, cpu);
    return r;
}

}  // namespace bench
