#pragma once
// Worker-endpoint messages (docs/protocol.md, "Worker channel").
#include <cstdint>
#include <string>

#include <vector>

#include "common/messages.hpp"
#include "common/msg_type.hpp"
#include "common/msgpack_config.hpp"

namespace chatbus {

struct WReady {
    static constexpr MsgType kType = MsgType::w_ready;
    std::string worker, host;
    std::uint64_t pid = 0;
    MSGPACK_DEFINE_MAP(worker, host, pid)
    bool operator==(const WReady&) const = default;
};
struct WWelcome {
    static constexpr MsgType kType = MsgType::w_welcome;
    std::string boot;  // this run of the broker: a change tells the worker the broker restarted
    std::uint64_t heartbeat_ms = 0, liveness = 0, max_text = 0, max_batch = 0;
    std::uint64_t history = 0;  // events kept per room, as HELLO_REPLY tells clients; 0: the worker's own
    MSGPACK_DEFINE_MAP(boot, heartbeat_ms, liveness, max_text, max_batch, history)
    bool operator==(const WWelcome&) const = default;
};
struct WHeartbeat {
    static constexpr MsgType kType = MsgType::w_heartbeat;
    // An empty map: MSGPACK_DEFINE_MAP needs at least one field.
    template <class Packer>
    void msgpack_pack(Packer& pk) const {
        pk.pack_map(0);
    }
    void msgpack_unpack(const msgpack::object& o) {
        if (o.type != msgpack::type::MAP) throw msgpack::type_error();
    }
    bool operator==(const WHeartbeat&) const = default;
};
struct WDisconnect {
    static constexpr MsgType kType = MsgType::w_disconnect;
    std::string reason;
    MSGPACK_DEFINE_MAP(reason)
    bool operator==(const WDisconnect&) const = default;
};
// First frame of a forwarded request; the second frame is the client's request, unchanged.
struct WRequest {
    static constexpr MsgType kType = MsgType::w_request;
    std::uint64_t bid = 0;
    MSGPACK_DEFINE_MAP(bid)
    bool operator==(const WRequest&) const = default;
};
// First frame of a worker's answer; then the reply for the client, then one frame per event to publish.
struct WReply {
    static constexpr MsgType kType = MsgType::w_reply;
    std::uint64_t bid = 0;
    MSGPACK_DEFINE_MAP(bid)
    bool operator==(const WReply&) const = default;
};

// A room's whole state: broker -> worker hands the room over; worker -> broker gives it back after a
// broker restart.
struct WState {
    static constexpr MsgType kType = MsgType::w_state;
    std::string room;
    std::uint64_t seq = 0;
    std::vector<std::string> members;
    std::vector<Event> history;
    MSGPACK_DEFINE_MAP(room, seq, members, history)
    bool operator==(const WState&) const = default;
};
// The worker no longer holds the room and drops it.
struct WRelease {
    static constexpr MsgType kType = MsgType::w_release;
    std::string room;
    MSGPACK_DEFINE_MAP(room)
    bool operator==(const WRelease&) const = default;
};

}  // namespace chatbus
