// rr's raw-libzmq baselines: the client carries its rid in the first 8 bytes; the servers echo frames back
// without looking at them.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/client.hpp"
#include "bench/rr.hpp"

namespace bench {

using namespace chatbus;

namespace {

// The chatbus client's and broker's socket options, so the queues are as deep on both sides.
zmq::socket_t raw_socket(zmq::context_t& ctx, zmq::socket_type type) {
    zmq::socket_t s(ctx, type);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::sndhwm, 100000);
    s.set(zmq::sockopt::rcvhwm, 100000);
    return s;
}

// Sends every message `s` receives back as it came (with its routing frames), on a thread of its own, until
// destroyed.
class Echo {
  public:
    explicit Echo(zmq::socket_t& s) : s_(s), thread_([this] { loop(); }) {}
    ~Echo() {
        stop_ = true;
        thread_.join();
    }
    Echo(const Echo&) = delete;
    Echo& operator=(const Echo&) = delete;

  private:
    void loop() {
        std::vector<zmq::message_t> parts;
        while (!stop_.load()) {
            zmq::pollitem_t item{s_.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(50));
            while (recv_multipart(s_, parts))
                for (std::size_t i = 0; i < parts.size(); ++i)
                    s_.send(parts[i],
                            i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
    }

    zmq::socket_t& s_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A DEALER in a context of its own, as a chatbus client is.
Result drive_raw(const RrPlan& p, const std::string& endpoint, std::size_t size) {
    zmq::context_t ctx(1);
    zmq::socket_t client = raw_socket(ctx, zmq::socket_type::dealer);
    client.connect(endpoint);
    std::string payload(std::max<std::size_t>(size, 8), 'w');
    Result r = drive_requests(
        "zmq-raw", p, client,
        [&](std::uint64_t rid) {
            std::memcpy(payload.data(), &rid, 8);
            client.send(zmq::buffer(payload), zmq::send_flags::none);
        },
        [](const zmq::message_t& m, std::uint64_t& rid) {
            if (m.size() < 8) return false;
            std::memcpy(&rid, m.data(), 8);
            return true;
        });
    r.size = size;
    return r;
}

}  // namespace

Result raw_echo_rr(const RrPlan& p, std::size_t size) {
    zmq::context_t ctx(1);
    zmq::socket_t server = raw_socket(ctx, zmq::socket_type::router);
    server.bind("tcp://127.0.0.1:*");
    // Read before the echo thread owns the socket: a ZeroMQ socket is not for two threads at once.
    const std::string endpoint = last_endpoint(server);
    Echo echo(server);
    Result r = drive_raw(p, endpoint, size);
    r.extra.emplace_back("baseline", "1-hop-echo");
    return r;
}

Result raw_proxy_rr(const RrPlan& p, std::size_t size) {
    zmq::context_t proxy_ctx(1), echo_ctx(1);
    zmq::socket_t front = raw_socket(proxy_ctx, zmq::socket_type::router),
                  back = raw_socket(proxy_ctx, zmq::socket_type::dealer),
                  control(proxy_ctx, zmq::socket_type::pair);
    for (auto* s : {&front, &back}) s->bind("tcp://127.0.0.1:*");
    control.bind("inproc://rr-control");
    const std::string front_endpoint = last_endpoint(front), back_endpoint = last_endpoint(back);
    std::thread proxy([&] { zmq::proxy_steerable(front, back, zmq::socket_ref(), control); });
    zmq::socket_t worker(echo_ctx, zmq::socket_type::dealer);
    worker.set(zmq::sockopt::linger, 0);
    worker.connect(back_endpoint);
    Result r;
    {
        Echo echo(worker);
        r = drive_raw(p, front_endpoint, size);
    }
    zmq::socket_t ctl(proxy_ctx, zmq::socket_type::pair);
    ctl.connect("inproc://rr-control");
    ctl.send(zmq::str_buffer("TERMINATE"), zmq::send_flags::none);
    proxy.join();
    r.extra.emplace_back("baseline", "2-hop-proxy");
    return r;
}

}  // namespace bench
