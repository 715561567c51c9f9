#pragma once
// Client-endpoint messages (docs/protocol.md, "Requests and replies"). Each struct is one message type; its
// fields are the msgpack map's keys. Replies repeat rid/status/error so each type reads as the document does.
// Each request names its reply struct (Reply); requests.hpp checks them against msg_type.hpp's table.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/msg_type.hpp"
#include "common/msgpack_config.hpp"

namespace chatbus {

struct Limits {
    std::uint64_t max_text = 0, max_batch = 0, max_frame = 0, history = 0, inbox = 0, heartbeat_ms = 0;
    MSGPACK_DEFINE_MAP(max_text, max_batch, max_frame, history, inbox, heartbeat_ms)
    bool operator==(const Limits&) const = default;
};

// The answer to a frame whose request type could not be determined (bad header, version or type code).
struct ErrorReply {
    static constexpr MsgType kType = MsgType::error;
    std::uint64_t rid = 0, status = 0;
    std::string error;
    MSGPACK_DEFINE_MAP(rid, status, error)
    bool operator==(const ErrorReply&) const = default;
};

struct HelloReply;
struct Hello {
    static constexpr MsgType kType = MsgType::hello;
    using Reply = HelloReply;
    std::uint64_t rid = 0;
    bool gateway = false;  // claims the gateway role for this identity (docs/protocol.md, "Gateways")
    MSGPACK_DEFINE_MAP(rid, gateway)
    bool operator==(const Hello&) const = default;
};
struct HelloReply {
    static constexpr MsgType kType = MsgType::hello_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error;
    std::uint64_t version = 0;
    std::string events;
    Limits limits;
    std::string boot;
    bool gateway = false;  // the identity is a gateway now
    MSGPACK_DEFINE_MAP(rid, status, error, version, events, limits, boot, gateway)
    bool operator==(const HelloReply&) const = default;
};

struct RegisterReply;
struct Register {
    static constexpr MsgType kType = MsgType::register_nick;
    using Reply = RegisterReply;
    std::uint64_t rid = 0;
    std::string nick;
    MSGPACK_DEFINE_MAP(rid, nick)
    bool operator==(const Register&) const = default;
};
struct RegisterReply {
    static constexpr MsgType kType = MsgType::register_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, nick, token;
    MSGPACK_DEFINE_MAP(rid, status, error, nick, token)
    bool operator==(const RegisterReply&) const = default;
};

struct UnregisterReply;
struct Unregister {
    static constexpr MsgType kType = MsgType::unregister;
    using Reply = UnregisterReply;
    std::uint64_t rid = 0;
    std::string nick, token;
    MSGPACK_DEFINE_MAP(rid, nick, token)
    bool operator==(const Unregister&) const = default;
};
struct UnregisterReply {
    static constexpr MsgType kType = MsgType::unregister_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error;
    MSGPACK_DEFINE_MAP(rid, status, error)
    bool operator==(const UnregisterReply&) const = default;
};

struct JoinReply;
struct Join {
    static constexpr MsgType kType = MsgType::join;
    using Reply = JoinReply;
    std::uint64_t rid = 0;
    std::string nick, token, room;
    MSGPACK_DEFINE_MAP(rid, nick, token, room)
    bool operator==(const Join&) const = default;
};
struct JoinReply {
    static constexpr MsgType kType = MsgType::join_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, room;
    std::uint64_t seq = 0;
    bool joined = false;
    MSGPACK_DEFINE_MAP(rid, status, error, room, seq, joined)
    bool operator==(const JoinReply&) const = default;
};

struct LeaveReply;
struct Leave {
    static constexpr MsgType kType = MsgType::leave;
    using Reply = LeaveReply;
    std::uint64_t rid = 0;
    std::string nick, token, room;
    MSGPACK_DEFINE_MAP(rid, nick, token, room)
    bool operator==(const Leave&) const = default;
};
struct LeaveReply {
    static constexpr MsgType kType = MsgType::leave_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, room;
    std::uint64_t seq = 0;
    MSGPACK_DEFINE_MAP(rid, status, error, room, seq)
    bool operator==(const LeaveReply&) const = default;
};

struct SendReply;
// SEND with the texts held as `Texts`: the hot paths read them in place (send_views.hpp), Send copies them.
template <class Texts>
struct BasicSend {
    static constexpr MsgType kType = MsgType::send;
    using Reply = SendReply;
    std::uint64_t rid = 0;
    std::string nick, token, room;
    Texts texts;
    MSGPACK_DEFINE_MAP(rid, nick, token, room, texts)
    bool operator==(const BasicSend&) const = default;
};
using Send = BasicSend<std::vector<std::string>>;
struct SendReply {
    static constexpr MsgType kType = MsgType::send_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, room;
    std::uint64_t first_seq = 0, last_seq = 0;
    MSGPACK_DEFINE_MAP(rid, status, error, room, first_seq, last_seq)
    bool operator==(const SendReply&) const = default;
};

struct DmReply;
struct Dm {
    static constexpr MsgType kType = MsgType::dm;
    using Reply = DmReply;
    std::uint64_t rid = 0;
    std::string nick, token, to, text;
    MSGPACK_DEFINE_MAP(rid, nick, token, to, text)
    bool operator==(const Dm&) const = default;
};
struct DmReply {
    static constexpr MsgType kType = MsgType::dm_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, to;
    std::uint64_t id = 0;
    bool delivered = false;
    MSGPACK_DEFINE_MAP(rid, status, error, to, id, delivered)
    bool operator==(const DmReply&) const = default;
};

struct WhoReply;
struct Who {
    static constexpr MsgType kType = MsgType::who;
    using Reply = WhoReply;
    std::uint64_t rid = 0;
    std::string room;
    MSGPACK_DEFINE_MAP(rid, room)
    bool operator==(const Who&) const = default;
};
struct WhoReply {
    static constexpr MsgType kType = MsgType::who_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, room;
    std::vector<std::string> members;
    MSGPACK_DEFINE_MAP(rid, status, error, room, members)
    bool operator==(const WhoReply&) const = default;
};

struct RoomInfo {
    std::string room;
    std::uint64_t members = 0;
    MSGPACK_DEFINE_MAP(room, members)
    bool operator==(const RoomInfo&) const = default;
};
struct RoomsReply;
struct Rooms {
    static constexpr MsgType kType = MsgType::rooms;
    using Reply = RoomsReply;
    std::uint64_t rid = 0;
    std::string after;  // the page starts after this room name; empty: from the first room
    MSGPACK_DEFINE_MAP(rid, after)
    bool operator==(const Rooms&) const = default;
};
struct RoomsReply {
    static constexpr MsgType kType = MsgType::rooms_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error;
    std::vector<RoomInfo> rooms;
    bool more = false;  // more rooms follow: ask again with `after` = the last room of this page
    MSGPACK_DEFINE_MAP(rid, status, error, rooms, more)
    bool operator==(const RoomsReply&) const = default;
};

// Page sizes of ROOMS and HISTORY replies: within the 1,024-element array limit receivers decode with, and
// (HISTORY) about a MiB of events, far below the frame limits on the way.
inline constexpr std::size_t kRoomsPerPage = 1000;
inline constexpr std::size_t kHistoryPageEvents = 1000;
inline constexpr std::size_t kHistoryPageBytes = 1 << 20;

// A room event as published on the events socket and as returned by HISTORY.
struct Event {
    static constexpr MsgType kType = MsgType::event;
    std::string room;
    std::uint64_t seq = 0;
    std::string kind;  // event_kind.hpp
    std::string nick, text;
    std::uint64_t ts = 0;
    MSGPACK_DEFINE_MAP(room, seq, kind, nick, text, ts)
    bool operator==(const Event&) const = default;
};

struct HistoryReply;
struct History {
    static constexpr MsgType kType = MsgType::history;
    using Reply = HistoryReply;
    std::uint64_t rid = 0;
    std::string room;
    std::uint64_t last = 0, since = 0;
    MSGPACK_DEFINE_MAP(rid, room, last, since)
    bool operator==(const History&) const = default;
};
struct HistoryReply {
    static constexpr MsgType kType = MsgType::history_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, room;
    std::vector<Event> events;
    bool more = false;  // later events follow: ask again with `since` = the last event's seq
    MSGPACK_DEFINE_MAP(rid, status, error, room, events, more)
    bool operator==(const HistoryReply&) const = default;
};

struct ListenReply;
struct Listen {
    static constexpr MsgType kType = MsgType::listen;
    using Reply = ListenReply;
    std::uint64_t rid = 0;
    std::string nick, token;
    MSGPACK_DEFINE_MAP(rid, nick, token)
    bool operator==(const Listen&) const = default;
};
struct ListenReply {
    static constexpr MsgType kType = MsgType::listen_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error;
    std::vector<std::string> rooms;
    MSGPACK_DEFINE_MAP(rid, status, error, rooms)
    bool operator==(const ListenReply&) const = default;
};

struct PingReply;
struct Ping {
    static constexpr MsgType kType = MsgType::ping;
    using Reply = PingReply;
    std::uint64_t rid = 0;
    // Room events this listener missed on the events socket since its last PING answered `listening`.
    std::uint64_t missed = 0;
    MSGPACK_DEFINE_MAP(rid, missed)
    bool operator==(const Ping&) const = default;
};
struct PingReply {
    static constexpr MsgType kType = MsgType::ping_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error, boot;
    bool listening = false;   // the sending socket listens for at least one nick
    std::uint64_t nicks = 0;  // how many nicks it listens for
    MSGPACK_DEFINE_MAP(rid, status, error, boot, listening, nicks)
    bool operator==(const PingReply&) const = default;
};

struct StatusReply;
struct StatusRequest {
    static constexpr MsgType kType = MsgType::status;
    using Reply = StatusReply;
    std::uint64_t rid = 0;
    MSGPACK_DEFINE_MAP(rid)
    bool operator==(const StatusRequest&) const = default;
};
struct WorkerInfo {
    std::string id, host;
    std::uint64_t pid = 0, rooms = 0, served = 0, last_heartbeat_ms = 0;
    MSGPACK_DEFINE_MAP(id, host, pid, rooms, served, last_heartbeat_ms)
    bool operator==(const WorkerInfo&) const = default;
};
struct StatusReply {
    static constexpr MsgType kType = MsgType::status_reply;
    std::uint64_t rid = 0, status = 0;
    std::string error;
    std::uint64_t nicks = 0, rooms = 0, listeners = 0, inboxed = 0;
    std::uint64_t listener_sockets = 0;  // sockets listening for at least one nick (`listeners` counts nicks)
    std::uint64_t gateways = 0;          // client identities that are gateways
    std::vector<WorkerInfo> workers;
    std::uint64_t requests = 0;
    std::map<std::string, std::uint64_t> dropped;
    std::uint64_t retried = 0, moved = 0;
    std::string boot;
    std::uint64_t uptime_ms = 0;
    std::map<std::string, std::uint64_t> refused;  // requests refused by a limit, by status name
    MSGPACK_DEFINE_MAP(rid, status, error, nicks, rooms, listeners, inboxed, workers, requests, dropped,
                       retried, moved, boot, uptime_ms, refused, listener_sockets, gateways)
    bool operator==(const StatusReply&) const = default;
};

struct DmAck {
    static constexpr MsgType kType = MsgType::dm_ack;
    std::string nick;
    std::uint64_t upto = 0;
    MSGPACK_DEFINE_MAP(nick, upto)
    bool operator==(const DmAck&) const = default;
};
struct Unlisten {
    static constexpr MsgType kType = MsgType::unlisten;
    std::string nick;
    MSGPACK_DEFINE_MAP(nick)
    bool operator==(const Unlisten&) const = default;
};
struct DmDeliver {
    static constexpr MsgType kType = MsgType::dm_deliver;
    std::uint64_t id = 0;
    std::string from, to, text;
    std::uint64_t ts = 0;
    MSGPACK_DEFINE_MAP(id, from, to, text, ts)
    bool operator==(const DmDeliver&) const = default;
};
struct Membership {
    static constexpr MsgType kType = MsgType::membership;
    std::string nick, room;
    bool joined = false;
    std::uint64_t seq = 0;
    MSGPACK_DEFINE_MAP(nick, room, joined, seq)
    bool operator==(const Membership&) const = default;
};
struct ListenEnd {
    static constexpr MsgType kType = MsgType::listen_end;
    std::string nick, reason;
    MSGPACK_DEFINE_MAP(nick, reason)
    bool operator==(const ListenEnd&) const = default;
};

struct Sync {
    static constexpr MsgType kType = MsgType::sync;
    std::string nonce;
    MSGPACK_DEFINE_MAP(nonce)
    bool operator==(const Sync&) const = default;
};

}  // namespace chatbus
