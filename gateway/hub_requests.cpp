// What a session's PUBLISH asks for (docs/mqtt.md, "Topics"): a room message, a DM or a request topic in the
// mqant style, answered with JSON on the same topic when it carries a MSGID.
#include <nlohmann/json.hpp>

#include "common/codec.hpp"
#include "common/json_forms.hpp"
#include "common/names.hpp"
#include "gateway/hub.hpp"
#include "gateway/session_json.hpp"
#include "gateway/topic_scheme.hpp"

namespace chatbus::gateway {

namespace {

using nlohmann::ordered_json;

Status status_of(std::uint64_t wire) { return status_from_wire(wire); }

// A request payload: a JSON object (empty: {}). Fields of the wrong type make it bad_request.
struct Payload {
    nlohmann::json obj;
    bool ok = true;
    std::string str(const char* key) {
        auto it = obj.find(key);
        if (it == obj.end()) return {};
        if (!it->is_string()) ok = false;
        return it->is_string() ? it->get<std::string>() : std::string();
    }
    std::uint64_t u64(const char* key) {
        auto it = obj.find(key);
        if (it == obj.end()) return 0;
        if (!it->is_number_unsigned()) ok = false;
        return it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
    }
};

bool parse_payload(const std::string& text, Payload& p) {
    if (text.empty()) {
        p.obj = nlohmann::json::object();
        return true;
    }
    p.obj = nlohmann::json::parse(text, nullptr, false);
    return !p.obj.is_discarded() && p.obj.is_object();
}

}  // namespace

void Hub::publish(MqttSession& s, const std::string& topic, std::string payload, Done done) {
    PublishTarget t = publish_target(topic);
    bool anonymous = s.nick().empty();
    if (t.kind == PublishTarget::Kind::refused) return done(t.refusal, {});
    if (anonymous && !(t.kind == PublishTarget::Kind::request && t.name == "register"))
        return done(Status::not_authorized, {});
    auto finish = [done](auto const& r) { done(status_of(r.status), r.error); };
    switch (t.kind) {
        case PublishTarget::Kind::room:
            return ask(Send{0, s.nick(), s.token(), t.name, {std::move(payload)}}, finish);
        case PublishTarget::Kind::dm:
            return ask(Dm{0, s.nick(), s.token(), t.name, std::move(payload)}, finish);
        case PublishTarget::Kind::request:
            return request(s, t.name, t.msgid, payload, std::move(done));
        case PublishTarget::Kind::refused:
            break;
    }
}

void Hub::reply(MqttSession& s, const std::string& handler, const std::string& msgid, std::string json) {
    s.deliver("chatbus/req/" + handler + "/" + msgid, json, 0);
}

void Hub::request(MqttSession& s, const std::string& handler, const std::string& msgid, const std::string& payload,
                  Done done) {
    Payload p;
    if (!parse_payload(payload, p)) {
        if (msgid.empty()) return done(Status::bad_request, "the payload is not a JSON object");
        reply(s, handler, msgid, json_text(reply_json(Status::bad_request, "the payload is not a JSON object")));
        return done(Status::ok, {});
    }
    std::weak_ptr<bool> alive = s.liveness();
    MqttSession* sp = &s;
    // Answers the request: with a MSGID the reply carries the outcome; without, only a failure is told.
    auto answer = [this, alive, sp, handler, msgid, done](Status st, const std::string& error, ordered_json j) {
        if (auto a = alive.lock(); !a || !*a) return;
        if (msgid.empty()) return done(st, error);
        ordered_json r = reply_json(st, error);
        if (st == Status::ok) r.update(j);
        reply(*sp, handler, msgid, json_text(r));
        done(Status::ok, {});
    };
    auto simple = [answer](auto const& r, ordered_json j) { answer(status_of(r.status), r.error, std::move(j)); };
    if (handler == "register") {
        std::string nick = p.str("nick");
        if (!p.ok) return answer(Status::bad_request, "nick must be a string", {});
        return ask(Register{0, nick}, [simple](const RegisterReply& r) {
            simple(r, ordered_json{{"nick", r.nick}, {"token", r.token}});
        });
    }
    if (handler == "unregister") {
        return ask(Unregister{0, s.nick(), s.token()}, [simple](const UnregisterReply& r) { simple(r, {}); });
    }
    if (handler == "join" || handler == "leave" || handler == "who") {
        std::string room = p.str("room");
        if (!p.ok) return answer(Status::bad_request, "room must be a string", {});
        if (handler == "join")
            return ask(Join{0, s.nick(), s.token(), room}, [simple](const JoinReply& r) {
                simple(r, join_reply_json(r));
            });
        if (handler == "leave")
            return ask(Leave{0, s.nick(), s.token(), room}, [simple](const LeaveReply& r) {
                simple(r, leave_reply_json(r));
            });
        return ask(Who{0, room}, [simple](const WhoReply& r) {
            simple(r, who_reply_json(r));
        });
    }
    if (handler == "rooms") {
        std::string after = p.str("after");
        if (!p.ok) return answer(Status::bad_request, "after must be a string", {});
        return ask(Rooms{0, after}, [simple](const RoomsReply& r) {
            ordered_json j = rooms_json(r.rooms);
            j["more"] = r.more;
            simple(r, std::move(j));
        });
    }
    if (handler == "history") {
        std::string room = p.str("room");
        std::uint64_t last = p.u64("last"), since = p.u64("since");
        if (!p.ok) return answer(Status::bad_request, "room must be a string, last and since unsigned integers", {});
        return ask(History{0, room, last, since}, [simple](const HistoryReply& r) { simple(r, history_page_json(r)); });
    }
    // status
    return ask(StatusRequest{}, [this, simple](const StatusReply& r) {
        ordered_json gw{{"sessions", session_count()},
                        {"kept_sessions", kept_count()},
                        {"nicks", nick_count()},
                        {"rooms", room_count()},
                        {"dropped",
                         {{"slow_consumer", counters_.slow_consumer},
                          {"malformed", counters_.malformed},
                          {"flood", counters_.flood},
                          {"keepalive", counters_.keepalive}}}};
        simple(r, ordered_json{{"broker", status_reply_json(r)}, {"gateway", std::move(gw)}});
    });
}

}  // namespace chatbus::gateway
