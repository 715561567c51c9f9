#pragma once
// The broker's ZAP handler (RFC 27): libzmq asks it about every CURVE handshake on the broker's sockets, and
// it lets in only the public keys listed for the socket's ZAP domain. It owns a REP socket bound to
// inproc://zeromq.zap.01 that the broker polls in its own loop, so there is no extra thread.
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <zmq.hpp>

namespace chatbus {

class ZapHandler {
  public:
    using AllowList = std::map<std::string, std::set<std::string>>;  // ZAP domain -> Z85 public keys

    // Binds the ZAP endpoint in `ctx`; must happen before any CURVE server socket of `ctx` binds.
    ZapHandler(zmq::context_t& ctx, AllowList allowed);

    zmq::socket_t& socket() { return sock_; }
    // Answers every request waiting on the socket, never blocking.
    void handle_pending();

    std::uint64_t accepted() const { return accepted_; }
    std::uint64_t refused_unknown_key() const { return refused_unknown_key_; }
    std::uint64_t refused_malformed() const { return refused_malformed_; }

  private:
    AllowList allowed_;
    zmq::socket_t sock_;
    std::uint64_t accepted_ = 0, refused_unknown_key_ = 0, refused_malformed_ = 0;
};

}  // namespace chatbus
