#pragma once
#include <cstdint>
#include <string>

namespace chatbus {

// Every knob of the broker; main.cpp maps flags and config-file keys of the same names onto it.
struct BrokerConfig {
    std::string client = "tcp://127.0.0.1:5555";  // ROUTER for clients
    std::string worker = "tcp://127.0.0.1:5556";  // ROUTER for workers
    std::string events = "tcp://127.0.0.1:5558";  // XPUB subscribers read from
    std::string events_advertise;                 // told to clients; empty: the bound endpoint
    // Workers run inside the broker process over inproc:// (local_workers.hpp); they die with it.
    std::size_t local_workers = 0;
    std::string state_dir;                        // registry persistence; empty: in memory only
    std::string ready_file;  // written with the bound endpoints once serving (ready_file.hpp); empty: none
    std::string fsync = "always";                 // always | interval | never (see docs/architecture.md)
    std::int64_t heartbeat_ms = 1000;
    std::int64_t liveness = 3;
    std::int64_t request_timeout_ms = 5000;
    std::size_t inbox = 1000;
    std::size_t max_text = 4096;
    std::size_t max_batch = 64;
    std::size_t max_frame = 256 * 1024;  // ZMQ_MAXMSGSIZE of the client ROUTER is 4 x this
    // Limits against floods (docs/security.md, "Limits"); 0 means unlimited for each.
    double client_rate = 200, client_burst = 1000;  // requests per second per client identity, and burst
    double nick_rate = 50, nick_burst = 200;        // acting requests per second per nick, and burst
    std::size_t max_clients = 10000;                // client identities tracked at once
    std::int64_t client_idle_ms = 60000;            // an identity silent this long is forgotten
    std::size_t max_rooms_per_nick = 100;
    std::size_t max_room_members = 1000;  // keeps a WHO reply under the 1,024-element decode limit
    std::size_t history = 1000;  // events kept per room: by the broker's copy and, told at W_WELCOME, by workers
    int hwm = 100000;
    // Events queued per subscriber at the XPUB; a subscriber further behind loses events (docs/security.md,
    // and architecture.md "Slow subscribers" for why some are lost earlier). chatbus-bench sets 100,000, the
    // raw baseline's high-water mark.
    int events_hwm = 30000;
    // CURVE (docs/protocol.md "CURVE"); curve_key empty: off, every socket in the clear.
    std::string curve_key;    // the broker's key pair file (chatctl keygen)
    std::string client_keys;  // directory of the client public keys (*.pub) let in
    std::string worker_keys;  // directory of the worker public keys (*.pub) let in
    std::string gateway_keys;  // directory of the gateway keys (*.pub): clients that may claim to be gateways
    bool bind_nicks_to_keys = false;  // a nick registered under a key can act only from that key
};

}  // namespace chatbus
