// cli: wall time of `chatctl send` as a fresh process (start, connect, SEND, ack, exit). Baseline: a fresh
// process of this executable that connects a DEALER, sends one frame to a raw echo ROUTER and waits for it.
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/options.hpp"
#include "bench/proc.hpp"

namespace bench {

using namespace chatbus;

namespace {

Result time_runs(const char* system, int runs, const std::vector<std::string>& argv,
                 const std::vector<std::string>& env) {
    std::vector<std::int64_t> ns;
    std::uint64_t failed = 0;
    auto t0 = now_ns();
    for (int i = 0; i < runs; ++i) {
        auto t = now_ns();
        Child c = spawn(argv, true, env);
        int rc = wait_child(c, 10000);
        ns.push_back(now_ns() - t);
        if (rc != 0) ++failed;
    }
    Result r;
    r.system = system;
    r.workload = "cli";
    r.sent = runs;
    r.delivered = runs - failed;
    r.lost = failed;
    r.wall_s = static_cast<double>(now_ns() - t0) / 1e9;
    r.rate = r.wall_s > 0 ? runs / r.wall_s : 0;
    r.unit = "runs/s";
    r.lat = percentiles(ns);
    return r;
}

int run_or_fail(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    Child c = spawn(argv, true, env);
    return wait_child(c, 10000);
}

}  // namespace

int raw_cli_client_main(const std::string& endpoint) {
    zmq::context_t ctx(1);
    zmq::socket_t s(ctx, zmq::socket_type::dealer);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::rcvtimeo, 3000);
    s.connect(endpoint);
    s.send(zmq::str_buffer("hello"), zmq::send_flags::none);
    zmq::message_t m;
    return s.recv(m) ? 0 : 5;
}

void run_cli(const Options& o, Report& rep) {
    const int runs = o.quick ? 5 : 50;
    char tmpl[] = "/tmp/chatbus-bench-cli-XXXXXX";
    std::string home = mkdtemp(tmpl);
    std::vector<std::string> env{"XDG_CONFIG_HOME=" + home, "HOME=" + home};
    const std::string chatctl = bin_dir() + "/chatctl";
    for (int run = 0; run < o.runs; ++run) {
        for (const auto& link : o.chatbus() ? o.links() : std::vector<std::string>{}) {
            Cluster c(o, link);
            std::string ep = c.client_endpoint(), nick = unique_name("cli"), room = unique_name("cli");
            std::filesystem::remove_all(home + "/chatbus");
            {
                // Creates the room and waits until a worker serves it, so chatctl's join cannot race
                // start-up.
                zmq::context_t ctx(1);
                Dealer d(ctx, ep);
                join_room(d, register_nick(d, "cliwarm"), room);
            }
            if (run_or_fail({chatctl, "--broker", ep, "register", nick}, env) != 0 ||
                run_or_fail({chatctl, "--broker", ep, "join", room}, env) != 0) {
                spdlog::error("cli: chatctl register/join failed");
            }
            rep.add(c.tag(
                time_runs("chatbus", runs, {chatctl, "--broker", ep, "send", "--room", room, "hello"}, env)));
        }
        if (!o.raw()) continue;
        zmq::context_t ctx(1);
        zmq::socket_t router(ctx, zmq::socket_type::router);
        router.set(zmq::sockopt::linger, 0);
        router.bind("tcp://127.0.0.1:*");
        std::atomic<bool> stop{false};
        std::thread echo([&] {
            std::vector<zmq::message_t> parts;
            while (!stop.load()) {
                zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
                zmq::poll(&item, 1, std::chrono::milliseconds(50));
                while (recv_multipart(router, parts))
                    if (parts.size() == 2) send_frames(router, {view(parts[0]), view(parts[1])});
            }
        });
        rep.add(time_runs("zmq-raw", runs, {self_exe(), "--raw-cli-client", last_endpoint(router)}, env));
        stop = true;
        echo.join();
    }
    std::filesystem::remove_all(home);
}

}  // namespace bench
