#pragma once
// The broker's ZAP handler (RFC 27): libzmq asks it about every CURVE handshake on the broker's sockets, and
// it lets in only the public keys listed for the socket's ZAP domain. It owns a REP socket bound to
// inproc://zeromq.zap.01 that the broker polls in its own loop, so there is no extra thread.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <zmq.hpp>

namespace chatbus {

// What a connection's ZAP User-Id says: the Z85 key it authenticated with, and whether that is a gateway key
// (docs/protocol.md, "CURVE"). The handler writes it, the broker reads it from every message: no lookup per
// message, and nothing a peer can set.
struct CurvePeer {
    std::string_view key;  // empty without CURVE
    bool gateway = false;
};
CurvePeer curve_peer(std::string_view user_id);

class ZapHandler {
  public:
    using AllowList = std::map<std::string, std::set<std::string>>;  // ZAP domain -> Z85 public keys

    // Binds the ZAP endpoint in `ctx`; must happen before any CURVE server socket of `ctx` binds. Keys in
    // `gateways` are let in where `allowed` lists them, with a User-Id that says they are gateway keys.
    ZapHandler(zmq::context_t& ctx, AllowList allowed, std::set<std::string> gateways = {});

    zmq::socket_t& socket() { return sock_; }
    // Answers every request waiting on the socket, never blocking.
    void handle_pending();

    std::uint64_t accepted() const { return accepted_; }
    std::uint64_t refused_unknown_key() const { return refused_unknown_key_; }
    std::uint64_t refused_malformed() const { return refused_malformed_; }

  private:
    AllowList allowed_;
    std::set<std::string> gateways_;
    zmq::socket_t sock_;
    std::uint64_t accepted_ = 0, refused_unknown_key_ = 0, refused_malformed_ = 0;
};

}  // namespace chatbus
