#include <doctest/doctest.h>

#include <future>
#include <sstream>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/codec.hpp"
#include "cli/commands.hpp"
#include "common/messages.hpp"
#include "cli/output.hpp"
#include "common/socket_util.hpp"

using namespace chatbus;
using namespace chatbus::cli;
using namespace std::chrono_literals;

namespace {

// Runs `chatctl status` against a ROUTER that answers one STATUS with `reply`; returns stdout.
std::string status_output(bool json, StatusReply reply, int& rc) {
    zmq::context_t ctx;
    zmq::socket_t router(ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:*");
    GlobalOptions g;
    g.broker = last_endpoint(router);
    g.timeout = 3000ms;
    std::ostringstream out, err;
    Output output(json, out, err);
    auto done = std::async(std::launch::async, [&] { return cmd_status(g, output); });
    zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, 3000ms) == 1);
    std::vector<zmq::message_t> parts;
    REQUIRE(recv_multipart(router, parts));
    REQUIRE(parts.size() == 2);
    Decoded d;
    REQUIRE(decode(std::string(view(parts[1])), d) == Status::ok);
    REQUIRE(d.type == MsgType::status);
    reply.rid = peek_rid(d);
    REQUIRE(send_frames(router, {std::string(view(parts[0])), encode(reply)}));
    rc = done.get();
    return out.str();
}

StatusReply sample() {
    return StatusReply{.nicks = 3,
                       .rooms = 2,
                       .listeners = 1,
                       .inboxed = 4,
                       .workers = {WorkerInfo{.id = "w1", .host = "h", .pid = 7, .rooms = 2, .served = 9}},
                       .requests = 40,
                       .dropped = {{"malformed", 1}},
                       .retried = 5,
                       .moved = 6,
                       .boot = "b00t",
                       .uptime_ms = 3723500,
                       .refused = {{"rate_limited", 2}}};
}

}  // namespace

TEST_CASE("status --json shows retried, moved, boot and uptime_ms") {
    int rc = -1;
    std::string out = status_output(true, sample(), rc);
    CHECK(rc == 0);
    CHECK(
        out ==
        R"({"ok":true,"nicks":3,"rooms":2,"listeners":1,"inboxed":4,"requests":40,"retried":5,"moved":6,)"
        R"("boot":"b00t","uptime_ms":3723500,"workers":[{"id":"w1","host":"h","pid":7,"rooms":2,"served":9,)"
        R"("last_heartbeat_ms":0}],"dropped":{"malformed":1},"refused":{"rate_limited":2}})"
        "\n");
}

TEST_CASE("status in human form shows the broker run, its uptime and the retry counters") {
    int rc = -1;
    std::string out = status_output(false, sample(), rc);
    CHECK(rc == 0);
    CHECK(
        out.starts_with("broker b00t, up 1h 2m 3s\n"
                        "nicks 3, rooms 2, listeners 1, inboxed 4, requests 40, retried 5, moved 6\n"));
}

TEST_CASE("format_uptime") {
    CHECK(format_uptime(0) == "0s");
    CHECK(format_uptime(12999) == "12s");
    CHECK(format_uptime(240000) == "4m 0s");
    CHECK(format_uptime((2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000ULL) == "2d 3h 4m 5s");
    CHECK(format_uptime(86400000) == "1d 0h 0m 0s");
}
