// msg_type.hpp's table against the message structs: a request's Reply struct carries the table's reply code,
// only requests have one, and the table's notifications are the ones docs/protocol.md names.
#include <doctest/doctest.h>

#include <set>

#include "tests/unit/common_samples.hpp"
#include "common/requests.hpp"

using namespace chatbus;
using chatbus::test::for_each_message_type;

TEST_CASE("each struct's Reply is the table's reply type, and only requests have one") {
    int with_reply = 0;
    for_each_message_type([&](auto m) {
        using T = decltype(m);
        CAPTURE(msg_type_name(T::kType));
        if constexpr (requires { typename T::Reply; }) {
            ++with_reply;
            CHECK(has_reply(T::kType));
            CHECK(reply_type_of(T::kType) == T::Reply::kType);
            CHECK(is_reply(T::Reply::kType));
            CHECK_FALSE(is_client_notification(T::kType));
        } else {
            CHECK_FALSE(has_reply(T::kType));
            CHECK(reply_type_of(T::kType) == MsgType::error);
        }
    });
    int requests = 0;
    for (const auto& info : all_message_types()) requests += has_reply(info.type);
    CHECK(with_reply == requests);
}

TEST_CASE("with_reply_of hands each request's own reply struct, and nothing for other types") {
    for (const auto& info : all_message_types()) {
        CAPTURE(info.name);
        MsgType got = MsgType::error;
        const bool typed = with_reply_of(info.type, [&](auto rep) { got = decltype(rep)::kType; });
        CHECK(typed == has_reply(info.type));
        if (typed) CHECK(got == info.reply);
    }
}

TEST_CASE("notifications, room requests and replies are the ones docs/protocol.md names") {
    std::set<MsgType> notifications, room_requests;
    for (const auto& info : all_message_types()) {
        if (is_client_notification(info.type)) notifications.insert(info.type);
        if (is_room_request(info.type)) room_requests.insert(info.type);
    }
    CHECK(notifications == std::set{MsgType::dm_ack, MsgType::unlisten});
    CHECK(room_requests == std::set{MsgType::join, MsgType::leave, MsgType::send});
}

TEST_CASE("is_reply: ERROR and the requests' Reply structs, nothing else (a client queues the rest)") {
    std::set<MsgType> replies{ErrorReply::kType}, said;
    for_each_message_type([&](auto m) {
        if constexpr (requires { typename decltype(m)::Reply; }) replies.insert(decltype(m)::Reply::kType);
    });
    for (const auto& info : all_message_types()) {
        if (is_reply(info.type)) said.insert(info.type);
    }
    CHECK(said == replies);
}
