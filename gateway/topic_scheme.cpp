#include "gateway/topic_scheme.hpp"

#include "common/names.hpp"

namespace chatbus::gateway {

namespace {

constexpr std::string_view kRoom = "room/";
constexpr std::string_view kDm = "dm/";
constexpr std::string_view kReq = "req/";

bool take_prefix(std::string_view& s, std::string_view prefix) {
    if (!s.starts_with(prefix)) return false;
    s.remove_prefix(prefix.size());
    return true;
}

PublishTarget refused(Status s) { return {PublishTarget::Kind::refused, {}, {}, s}; }

bool is_handler(std::string_view h) {
    for (std::string_view known : {"register", "unregister", "join", "leave", "who", "rooms", "history", "status"})
        if (h == known) return true;
    return false;
}

}  // namespace

bool valid_msgid(std::string_view msgid) {
    if (msgid.empty() || msgid.size() > 64) return false;
    for (char c : msgid) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

PublishTarget publish_target(std::string_view topic) {
    if (!take_prefix(topic, kTopicRoot)) return refused(Status::unknown_topic);
    if (take_prefix(topic, kRoom)) {
        if (!valid_room(topic)) return refused(Status::invalid_room);
        return {PublishTarget::Kind::room, fold_name(topic), {}, Status::ok};
    }
    if (take_prefix(topic, kDm)) {
        if (!valid_nick(topic)) return refused(Status::unknown_nick);
        return {PublishTarget::Kind::dm, std::string(topic), {}, Status::ok};
    }
    if (take_prefix(topic, kReq)) {
        std::string_view handler = topic.substr(0, topic.find('/'));
        std::string_view msgid;
        if (handler.size() < topic.size()) {
            msgid = topic.substr(handler.size() + 1);
            if (!valid_msgid(msgid)) return refused(Status::unknown_topic);
        }
        if (!is_handler(handler)) return refused(Status::unknown_topic);
        return {PublishTarget::Kind::request, std::string(handler), std::string(msgid), Status::ok};
    }
    return refused(Status::unknown_topic);
}

FilterTarget filter_target(std::string_view filter, std::string_view own_nick) {
    using K = FilterTarget::Kind;
    auto refuse = [](Status s) { return FilterTarget{K::refused, {}, s}; };
    if (own_nick.empty()) return refuse(Status::not_authorized);
    if (filter == "#" || filter == "chatbus/#") return {K::everything, {}, Status::ok};
    std::string_view rest = filter;
    if (!take_prefix(rest, kTopicRoot)) return refuse(Status::unknown_topic);
    if (take_prefix(rest, kRoom)) {
        if (rest == "+" || rest == "#") return {K::all_rooms, {}, Status::ok};
        if (!valid_room(rest)) return refuse(Status::invalid_room);
        return {K::room, fold_name(rest), Status::ok};
    }
    if (take_prefix(rest, kDm)) {
        if (fold_name(rest) == fold_name(own_nick)) return {K::own_dms, {}, Status::ok};
        return refuse(Status::not_authorized);
    }
    if (filter == kErrorTopic) return {K::errors, {}, Status::ok};
    if (rest.starts_with(kReq)) return refuse(Status::not_authorized);
    return refuse(Status::unknown_topic);
}

std::string room_topic_of(std::string_view folded_room) {
    std::string t(kTopicRoot);
    t += kRoom;
    t += folded_room;
    return t;
}

std::string dm_topic_of(std::string_view nick) {
    std::string t(kTopicRoot);
    t += kDm;
    t += nick;
    return t;
}

}  // namespace chatbus::gateway
