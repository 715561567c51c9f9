#pragma once
// One sample of every message type of common/messages.hpp and common/worker_messages.hpp, every field set to
// a non-default value, and the list of those types. Shared by the round-trip, hostile-input and
// protocol-document tests (header only: tests/CMakeLists.txt globs tests/unit/common_*.cpp, not .hpp).
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "common/codec.hpp"
#include "common/messages.hpp"
#include "common/worker_messages.hpp"

namespace chatbus::test {

// Every message struct. The round-trip test checks that their type codes are exactly all_message_types().
using AllMessages =
    std::tuple<ErrorReply, Hello, HelloReply, Register, RegisterReply, Unregister, UnregisterReply, Join,
               JoinReply, Leave, LeaveReply, Send, SendReply, Dm, DmReply, Who, WhoReply, Rooms, RoomsReply,
               History, HistoryReply, Listen, ListenReply, Ping, PingReply, StatusRequest, StatusReply, DmAck,
               Unlisten, DmDeliver, Membership, ListenEnd, WReady, WWelcome, WHeartbeat, WDisconnect,
               WRequest, WReply, WState, WRelease, Event, Sync>;

// Calls f(T{}) for every T in AllMessages (the argument only carries the type).
template <class F>
void for_each_message_type(F&& f) {
    std::apply([&](auto... m) { (f(m), ...); }, AllMessages{});
}

// Values chosen to be non-default and distinct, and to exercise every msgpack integer width, multi-byte
// UTF-8 and strings longer than fixstr/str8.
inline constexpr std::uint64_t kBig = 0xFEDCBA9876543210ull;
inline const std::string kUtf8 = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 line\nnext\ttab";
inline const std::string kToken(64, 'a');

inline Event sample_event(std::uint64_t seq) {
    return Event{"general",
                 seq,
                 seq % 3 == 0 ? "message" : (seq % 3 == 1 ? "join" : "leave"),
                 "Alice",
                 seq % 3 == 0 ? kUtf8 : std::string("t") + std::to_string(seq),
                 1'700'000'000'000ull + seq};
}

template <class T>
T sample();

template <>
inline ErrorReply sample() {
    return {.rid = 3, .status = 3, .error = "unknown message type"};
}
template <>
inline Hello sample() {
    return {.rid = 1, .gateway = true};
}
template <>
inline HelloReply sample() {
    return {.rid = 0xFFFFFFFFFFFFFFFFull,
            .status = 2,
            .error = "unsupported protocol version",
            .version = 1,
            .events = "tcp://10.0.0.1:5558",
            .limits = {4096, 64, 262144, 1000, 1000, 1000},
            .boot = "3f2a9c0d5e7b1a46",
            .gateway = true};
}
template <>
inline Register sample() {
    return {.rid = 0x100, .nick = "Alice_-9"};
}
template <>
inline RegisterReply sample() {
    return {
        .rid = 0x10000, .status = 6, .error = "nick already registered", .nick = "Alice", .token = kToken};
}
template <>
inline Unregister sample() {
    return {.rid = 0x100000000ull, .nick = "bob", .token = kToken};
}
template <>
inline UnregisterReply sample() {
    return {.rid = 5, .status = 9, .error = "bad token"};
}
template <>
inline Join sample() {
    return {.rid = 6, .nick = "carol", .token = kToken, .room = "room.x-1_2"};
}
template <>
inline JoinReply sample() {
    return {.rid = 7, .status = 10, .error = "e", .room = "general", .seq = kBig, .joined = true};
}
template <>
inline Leave sample() {
    return {.rid = 8, .nick = "dave", .token = kToken, .room = "general"};
}
template <>
inline LeaveReply sample() {
    return {.rid = 9, .status = 12, .error = "not a member", .room = "general", .seq = 127};
}
template <>
inline Send sample() {
    return {.rid = 10,
            .nick = "erin",
            .token = kToken,
            .room = "general",
            .texts = {"hello", kUtf8, std::string(300, 'x'), std::string(70'000 / 2, 'y')}};
}
template <>
inline SendReply sample() {
    return {
        .rid = 11, .status = 13, .error = "bad text", .room = "general", .first_seq = 128, .last_seq = 65536};
}
template <>
inline Dm sample() {
    return {.rid = 12, .nick = "frank", .token = kToken, .to = "Grace", .text = kUtf8};
}
template <>
inline DmReply sample() {
    return {.rid = 13, .status = 7, .error = "unknown nick", .to = "Grace", .id = 42, .delivered = true};
}
template <>
inline Who sample() {
    return {.rid = 14, .room = "general"};
}
template <>
inline WhoReply sample() {
    return {.rid = 15,
            .status = 11,
            .error = "no such room",
            .room = "general",
            .members = {"Alice", "bob", "Carol"}};
}
template <>
inline Rooms sample() {
    return {.rid = 16, .after = "dev"};
}
template <>
inline RoomsReply sample() {
    return {.rid = 17, .status = 16, .error = "no worker", .rooms = {{"general", 3}, {"random", 1}}, .more = true};
}
template <>
inline History sample() {
    return {.rid = 18, .room = "general", .last = 10, .since = 3};
}
template <>
inline HistoryReply sample() {
    return {.rid = 19,
            .status = 17,
            .error = "timeout",
            .room = "general",
            .events = {sample_event(1), sample_event(2), sample_event(3)},
            .more = true};
}
template <>
inline Listen sample() {
    return {.rid = 20, .nick = "heidi", .token = kToken};
}
template <>
inline ListenReply sample() {
    return {.rid = 21, .status = 18, .error = "internal", .rooms = {"general", "random"}};
}
template <>
inline Ping sample() {
    return {.rid = 22, .missed = 7};
}
template <>
inline PingReply sample() {
    return {.rid = 23,
            .status = 1,
            .error = "bad request",
            .boot = "3f2a9c0d5e7b1a46",
            .listening = true,
            .nicks = 4096};
}
template <>
inline StatusRequest sample() {
    return {.rid = 24};
}
template <>
inline StatusReply sample() {
    return {.rid = 25,
            .status = 4,
            .error = "too large",
            .nicks = 100,
            .rooms = 7,
            .listeners = 3,
            .inboxed = 12,
            .listener_sockets = 2,
            .gateways = 1,
            .workers = {{"w1", "hostA", 1234, 4, 99, 250}, {"w2", "hostB", 5678, 3, 1, 1}},
            .requests = 1'000'000,
            .dropped = {{"malformed", 2}, {"worker_timeout", 1}, {"unroutable", 5}},
            .retried = 17,
            .moved = 0x1'0000'0000ull,
            .boot = "3f2a9c0d5e7b1a46",
            .uptime_ms = 86'400'000,
            .refused = {{"rate_limited", 9}, {"room_full", 1}}};
}
template <>
inline DmAck sample() {
    return {.nick = "ivan", .upto = 77};
}
template <>
inline Unlisten sample() {
    return {.nick = "judy"};
}
template <>
inline DmDeliver sample() {
    return {.id = 78, .from = "Alice", .to = "bob", .text = kUtf8, .ts = 1'700'000'000'123ull};
}
template <>
inline Membership sample() {
    return {.nick = "bob", .room = "general", .joined = true, .seq = 79};
}
template <>
inline ListenEnd sample() {
    return {.nick = "bob", .reason = "replaced"};
}
template <>
inline WReady sample() {
    return {.worker = "w1", .host = "hostA", .pid = 4321};
}
template <>
inline WWelcome sample() {
    return {.boot = "3f2a9c0d5e7b1a46",
            .heartbeat_ms = 1000,
            .liveness = 3,
            .max_text = 4096,
            .max_batch = 32,
            .history = 500};
}
template <>
inline WHeartbeat sample() {
    return {};
}
template <>
inline WDisconnect sample() {
    return {.reason = "shutting down"};
}
template <>
inline WRequest sample() {
    return {.bid = 0xABCDEF};
}
template <>
inline WReply sample() {
    return {.bid = 0xABCDEF};
}
template <>
inline WState sample() {
    return {.room = "room.x-1_2",
            .seq = kBig,
            .members = {"Alice", "bob", "Carol"},
            .history = {sample_event(4), sample_event(5), sample_event(6)}};
}
template <>
inline WRelease sample() {
    return {.room = "room.x-1_2"};
}
template <>
inline Event sample() {
    return sample_event(kBig);
}
template <>
inline Sync sample() {
    return {.nonce = "n-1.a_b"};
}

}  // namespace chatbus::test
