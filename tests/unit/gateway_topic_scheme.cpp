// The topic table of docs/mqtt.md, row by row: what a PUBLISH topic names and what a SUBSCRIBE filter selects.
#include <doctest/doctest.h>

#include "gateway/subscriptions.hpp"
#include "gateway/topic_scheme.hpp"

using namespace chatbus;
using namespace chatbus::gateway;
using PK = PublishTarget::Kind;
using FK = FilterTarget::Kind;

TEST_CASE("publish topics name a room, a DM recipient or a request") {
    auto r = publish_target("chatbus/room/Lobby");
    CHECK(r.kind == PK::room);
    CHECK(r.name == "lobby");  // rooms fold to lower case, as everywhere in chatbus

    auto d = publish_target("chatbus/dm/Alice");
    CHECK(d.kind == PK::dm);
    CHECK(d.name == "Alice");

    auto q = publish_target("chatbus/req/who/42");
    CHECK(q.kind == PK::request);
    CHECK(q.name == "who");
    CHECK(q.msgid == "42");

    auto n = publish_target("chatbus/req/rooms");
    CHECK(n.kind == PK::request);
    CHECK(n.msgid.empty());
}

TEST_CASE("publish topics that name nothing are refused with their status") {
    struct Case {
        const char* topic;
        Status status;
    };
    for (Case c : {Case{"lobby", Status::unknown_topic}, Case{"chatbus/room/", Status::invalid_room},
                   Case{"chatbus/room/a/b", Status::invalid_room}, Case{"chatbus/room/-x", Status::invalid_room},
                   Case{"chatbus/dm/", Status::unknown_nick}, Case{"chatbus/dm/9lives", Status::unknown_nick},
                   Case{"chatbus/req/shout/1", Status::unknown_topic},
                   Case{"chatbus/req/who/", Status::unknown_topic},
                   Case{"chatbus/req/who/a b", Status::unknown_topic},
                   Case{"chatbus/req/who/1/2", Status::unknown_topic}, Case{"chatbus/error", Status::unknown_topic},
                   Case{"chatbus/other", Status::unknown_topic}, Case{"Chatbus/room/x", Status::unknown_topic}}) {
        CAPTURE(c.topic);
        auto t = publish_target(c.topic);
        CHECK(t.kind == PK::refused);
        CHECK(t.refusal == c.status);
    }
}

TEST_CASE("msgid is 1 to 64 characters of A-Z a-z 0-9 _ -") {
    CHECK(valid_msgid("a"));
    CHECK(valid_msgid(std::string(64, 'Z')));
    CHECK(valid_msgid("req_1-B"));
    CHECK_FALSE(valid_msgid(""));
    CHECK_FALSE(valid_msgid(std::string(65, 'a')));
    CHECK_FALSE(valid_msgid("a.b"));
    CHECK_FALSE(valid_msgid("a+"));
}

TEST_CASE("filters select a room, every room, the own DMs or everything") {
    CHECK(filter_target("chatbus/room/Lobby", "alice").kind == FK::room);
    CHECK(filter_target("chatbus/room/Lobby", "alice").room == "lobby");
    for (const char* f : {"chatbus/room/+", "chatbus/room/#"}) CHECK(filter_target(f, "alice").kind == FK::all_rooms);
    for (const char* f : {"chatbus/#", "#"}) CHECK(filter_target(f, "alice").kind == FK::everything);
    CHECK(filter_target("chatbus/dm/ALICE", "alice").kind == FK::own_dms);
    CHECK(filter_target("chatbus/error", "alice").kind == FK::errors);
}

TEST_CASE("filters a session may not have are refused with their status") {
    struct Case {
        const char* filter;
        const char* nick;
        Status status;
    };
    for (Case c : {Case{"chatbus/room/lobby", "", Status::not_authorized},
                   Case{"chatbus/dm/bob", "alice", Status::not_authorized},
                   Case{"chatbus/dm/+", "alice", Status::not_authorized},
                   Case{"chatbus/req/who/1", "alice", Status::not_authorized},
                   Case{"chatbus/room/a+b", "alice", Status::invalid_room},
                   Case{"chatbus/+/lobby", "alice", Status::unknown_topic},
                   Case{"other/#", "alice", Status::unknown_topic}, Case{"+", "alice", Status::unknown_topic}}) {
        CAPTURE(c.filter);
        auto t = filter_target(c.filter, c.nick);
        CHECK(t.kind == FK::refused);
        CHECK(t.refusal == c.status);
    }
}

TEST_CASE("a session's QoS for a room is the highest of its matching filters") {
    Subscriptions s;
    CHECK_FALSE(s.room_qos("lobby"));
    s.add("chatbus/room/lobby", filter_target("chatbus/room/lobby", "alice"), 0);
    CHECK(s.room_qos("lobby") == 0);
    CHECK_FALSE(s.room_qos("other"));
    s.add("chatbus/room/+", filter_target("chatbus/room/+", "alice"), 1);
    CHECK(s.room_qos("lobby") == 1);
    CHECK(s.room_qos("other") == 1);
    CHECK_FALSE(s.dm_qos());
    s.remove("chatbus/room/+");
    CHECK(s.room_qos("lobby") == 0);
    CHECK_FALSE(s.room_qos("other"));
    s.add("#", filter_target("#", "alice"), 1);
    CHECK(s.dm_qos() == 1);
    // Subscribing again to an equal filter replaces its QoS (MQTT-3.8.4-3).
    s.add("#", filter_target("#", "alice"), 0);
    CHECK(s.dm_qos() == 0);
    CHECK(s.size() == 2);
}
