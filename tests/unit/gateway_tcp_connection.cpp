// TcpConnection on real sockets of 127.0.0.1: what counts as a slow consumer (docs/mqtt.md, "Limits":
// session-queue). Every wait runs the event loop with a deadline.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "common/codec.hpp"
#include "gateway/hub.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "gateway/tcp_connection.hpp"

using namespace chatbus;
using namespace chatbus::gateway;
namespace mq = chatbus::mqtt;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct QuietBroker : BrokerPort {
    std::vector<std::string> sent;
    bool send(std::string_view f) override {
        sent.emplace_back(f);
        return true;
    }
    void subscribe(std::string_view) override {}
    void unsubscribe(std::string_view) override {}
    void connect_events(std::string_view) override {}
};

// A gateway connection (server side) and the client's end of it, both in this thread.
struct Link {
    QuietBroker broker;
    Hub hub{broker, HubOptions{}};  // before io: handlers destroyed with io may still end a session
    asio::io_context io;
    tcp::socket client{io};
    std::shared_ptr<TcpConnection> conn;
    bool gone = false;

    // small_buffers: a client that reads nothing fills the kernel's buffers after a few kB.
    Link(SessionLimits lim, bool small_buffers) {
        hub.start(1000);
        Hello hello;
        REQUIRE(decode_as(broker.sent.back(), hello) == Status::ok);
        hub.on_broker_frame(encode(HelloReply{hello.rid, 0, {}, 1, "tcp://127.0.0.1:5558", Limits{}, "b1"}));
        REQUIRE(hub.broker_up());
        tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        client.open(tcp::v4());
        if (small_buffers) client.set_option(asio::socket_base::receive_buffer_size(4096));
        client.connect(acceptor.local_endpoint());
        client.non_blocking(true);
        tcp::socket server(io);
        acceptor.accept(server);
        if (small_buffers) server.set_option(asio::socket_base::send_buffer_size(4096));
        conn = std::make_shared<TcpConnection>(std::move(server), hub, 1, lim, [this](TcpConnection*) { gone = true; });
        conn->start();
    }

    void send(const std::string& bytes) { asio::write(client, asio::buffer(bytes)); }

    // Runs the event loop and reads at the client until `n` bytes came, the connection closed, or 5 s passed.
    std::string receive(std::size_t n) {
        std::string got;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (got.size() < n && std::chrono::steady_clock::now() < deadline) {
            io.run_one_for(std::chrono::milliseconds(5));
            std::array<char, 65536> buf;
            boost::system::error_code ec;
            std::size_t k = client.read_some(asio::buffer(buf), ec);
            if (ec == asio::error::would_block) continue;
            if (ec) break;  // EOF or reset: the gateway closed the connection
            got.append(buf.data(), k);
        }
        return got;
    }
};

std::string encoded(const mq::Packet& p) {
    std::string b;
    mq::encode(b, p);
    return b;
}

std::string anonymous_connect() {
    mq::Connect c;
    c.protocol_name = "MQTT";
    c.level = 4;
    c.clean_session = true;
    c.client_id = "tcp-test";
    return encoded(c);
}

}  // namespace

TEST_CASE("answers to pipelined requests are written, not counted as a slow consumer's backlog") {
    SessionLimits lim;
    lim.queue = 100;
    Link l(lim, false);
    std::string burst = anonymous_connect();
    for (int i = 0; i < 1000; ++i) burst += encoded(mq::Pingreq{});  // ten times the queue, in one write
    l.send(burst);
    std::string want = encoded(mq::Connack{false, mq::ConnectReturnCode::accepted});
    for (int i = 0; i < 1000; ++i) want += encoded(mq::Pingresp{});
    CHECK(l.receive(want.size()) == want);
    CHECK_FALSE(l.gone);
    CHECK(l.hub.counters().slow_consumer == 0);
}

TEST_CASE("a client that reads nothing is closed as a slow consumer once the kernel takes no more") {
    SessionLimits lim;
    lim.queue = 10;
    Link l(lim, true);
    l.send(anonymous_connect());
    REQUIRE(l.receive(4).size() == 4);  // CONNACK
    const std::string payload(16384, 'x');
    int delivered = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!l.gone && std::chrono::steady_clock::now() < deadline) {
        l.conn->session().deliver("chatbus/room/lobby", payload, 0);
        ++delivered;
        l.io.poll();
    }
    CHECK(l.gone);
    CHECK(l.hub.counters().slow_consumer == 1);
    CHECK(delivered < 200);  // a few buffers' worth, then the queue of 10
}
