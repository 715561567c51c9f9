// The ZAP handler, driven in-process the way the broker's loop drives it: a CURVE server socket, the handler
// polled in the same loop, and clients with listed and unlisted keys.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "common/clock.hpp"
#include "common/curve.hpp"
#include "common/socket_util.hpp"
#include "broker/zap_handler.hpp"

using namespace chatbus;

namespace {

struct Server {
    zmq::context_t ctx{1};
    CurveKeyPair keys = generate_keypair();
    ZapHandler zap;
    zmq::socket_t router{ctx, zmq::socket_type::router};
    std::string endpoint;

    Server(const std::string& domain, ZapHandler::AllowList allowed, std::set<std::string> gateways = {})
        : zap(ctx, std::move(allowed), std::move(gateways)) {
        router.set(zmq::sockopt::linger, 0);
        make_curve_server(router, keys, domain.c_str());
        router.bind("tcp://127.0.0.1:*");
        endpoint = last_endpoint(router);
    }

    // Runs the loop (ZAP and the server socket) until a message arrives or `ms` pass; returns its User-Id.
    std::optional<std::string> serve(std::int64_t ms) {
        const std::int64_t deadline = mono_ms() + ms;
        std::vector<zmq::message_t> parts;
        while (mono_ms() < deadline) {
            zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {zap.socket().handle(), 0, ZMQ_POLLIN, 0}};
            zmq::poll(items, 2, std::chrono::milliseconds(20));
            if (items[1].revents & ZMQ_POLLIN) zap.handle_pending();
            if ((items[0].revents & ZMQ_POLLIN) && recv_multipart(router, parts) && parts.size() == 2) {
                return std::string(curve_user_id(parts[1]));
            }
        }
        return std::nullopt;
    }
};

struct Peer {
    zmq::socket_t s;
    Peer(Server& srv, const CurveKeyPair& own, const std::string& server_public) : s(srv.ctx, zmq::socket_type::dealer) {
        s.set(zmq::sockopt::linger, 0);
        make_curve_client(s, CurveClientKeys{own, server_public});
        s.connect(srv.endpoint);
        s.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait);
    }
};

}  // namespace

TEST_CASE("a listed key connects and its messages carry the key as User-Id") {
    CurveKeyPair alice = generate_keypair();
    Server srv(kZapDomainClients, {{kZapDomainClients, {alice.public_key}}});
    Peer p(srv, alice, srv.keys.public_key);
    auto user = srv.serve(5000);
    REQUIRE(user.has_value());
    CHECK(*user == alice.public_key);
    CHECK(srv.zap.accepted() == 1);
    CHECK(srv.zap.refused_unknown_key() == 0);
}

TEST_CASE("an unlisted key is refused and its messages never arrive") {
    CurveKeyPair alice = generate_keypair(), mallory = generate_keypair();
    Server srv(kZapDomainClients, {{kZapDomainClients, {alice.public_key}}});
    Peer p(srv, mallory, srv.keys.public_key);
    const std::int64_t deadline = mono_ms() + 5000;
    std::optional<std::string> got;
    while (srv.zap.refused_unknown_key() == 0 && mono_ms() < deadline && !got) got = srv.serve(50);
    CHECK(srv.zap.refused_unknown_key() >= 1);
    // After the refusal the connection is closed: nothing it sent may arrive, even later.
    CHECK_FALSE(srv.serve(300).has_value());
    CHECK_FALSE(got.has_value());
    CHECK(srv.zap.accepted() == 0);
}

TEST_CASE("a key listed in another ZAP domain is refused") {
    CurveKeyPair client = generate_keypair();
    // The worker socket's domain lists only worker keys: a client key cannot join as a worker.
    Server srv(kZapDomainWorkers, {{kZapDomainClients, {client.public_key}}, {kZapDomainWorkers, {}}});
    Peer p(srv, client, srv.keys.public_key);
    CHECK_FALSE(srv.serve(1000).has_value());
    CHECK(srv.zap.refused_unknown_key() >= 1);
}

TEST_CASE("a client with the wrong server key gets nowhere and ZAP is never asked") {
    CurveKeyPair alice = generate_keypair(), other = generate_keypair();
    Server srv(kZapDomainClients, {{kZapDomainClients, {alice.public_key}}});
    Peer p(srv, alice, other.public_key);
    CHECK_FALSE(srv.serve(1000).has_value());
    CHECK(srv.zap.accepted() == 0);
}

TEST_CASE("a gateway key's connection says so in its User-Id, a client key's does not") {
    CurveKeyPair alice = generate_keypair(), gw = generate_keypair();
    Server srv(kZapDomainClients, {{kZapDomainClients, {alice.public_key, gw.public_key}}}, {gw.public_key});
    Peer from_gw(srv, gw, srv.keys.public_key);
    auto user = srv.serve(5000);
    REQUIRE(user.has_value());
    CHECK(*user == "gateway " + gw.public_key);
    CHECK(curve_peer(*user).key == gw.public_key);
    CHECK(curve_peer(*user).gateway);

    Peer from_alice(srv, alice, srv.keys.public_key);
    user = srv.serve(5000);
    REQUIRE(user.has_value());
    CHECK(curve_peer(*user).key == alice.public_key);
    CHECK_FALSE(curve_peer(*user).gateway);
    CHECK(srv.zap.accepted() == 2);
}

TEST_CASE("a gateway key is let in only where its domain lists it") {
    CurveKeyPair gw = generate_keypair();
    // As the broker sets it up: gateway keys are listed for clients only, so the worker socket refuses them.
    Server srv(kZapDomainWorkers, {{kZapDomainClients, {gw.public_key}}, {kZapDomainWorkers, {}}},
               {gw.public_key});
    Peer p(srv, gw, srv.keys.public_key);
    CHECK_FALSE(srv.serve(1000).has_value());
    CHECK(srv.zap.refused_unknown_key() >= 1);
}

TEST_CASE("curve_peer reads a User-Id back: no CURVE, a client key, a gateway key") {
    CHECK(curve_peer("").key.empty());
    CHECK_FALSE(curve_peer("").gateway);
    const std::string key(40, 'k');
    CHECK(curve_peer(key).key == key);
    CHECK_FALSE(curve_peer(key).gateway);
    CHECK(curve_peer("gateway " + key).key == key);
    CHECK(curve_peer("gateway " + key).gateway);
}
