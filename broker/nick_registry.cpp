#include "broker/nick_registry.hpp"

#include "common/names.hpp"

namespace chatbus {

Status NickRegistry::register_nick(std::string_view nick, std::string& token_out) {
    if (!valid_nick(nick)) return Status::invalid_nick;
    auto [it, inserted] = nicks_.try_emplace(fold_name(nick));
    if (!inserted) return Status::nick_taken;
    token_out = new_token();
    it->second.display = std::string(nick);
    it->second.token_hash = hash_token(token_out);
    it->second.inbox = Inbox(inbox_limit_);
    if (bind_keys_) it->second.key = caller_key_;
    return Status::ok;
}

void NickRegistry::restore(const std::string& nick, const TokenHash& hash, const std::string& key) {
    NickEntry& e = nicks_[fold_name(nick)];
    e.display = nick;
    e.token_hash = hash;
    e.key = key;
    e.inbox = Inbox(inbox_limit_);
}

Status NickRegistry::authenticate(std::string_view nick, std::string_view token, NickEntry*& out) {
    NickEntry* e = find(nick);
    if (!e) return Status::not_registered;
    if (!token_matches(token, e->token_hash)) return Status::bad_token;
    // Checked after the token, so wrong_key tells only a token holder that the nick is bound elsewhere. A
    // gateway acts for users who proved the token to it and cannot prove their key: every gateway key may.
    if (bind_keys_ && !e->key.empty() && e->key != caller_key_ && !caller_gateway_) return Status::wrong_key;
    out = e;
    return Status::ok;
}

NickEntry* NickRegistry::find(std::string_view nick) {
    if (!valid_nick(nick)) return nullptr;
    auto it = nicks_.find(fold_name(nick));
    return it == nicks_.end() ? nullptr : &it->second;
}

void NickRegistry::remove(std::string_view nick) {
    NickEntry* e = find(nick);
    if (!e) return;
    detach_listener(*e);
    nicks_.erase(fold_name(nick));
}

void NickRegistry::attach_listener(NickEntry& e, const std::string& routing_id, std::int64_t now_ms) {
    if (e.listener && *e.listener != routing_id) detach_listener(e);
    ListenerSocket& s = sockets_[routing_id];
    if (s.nicks.insert(&e).second) ++attached_;
    s.seen_ms = now_ms;
    e.listener = routing_id;
    e.inbox.rewind();
}

void NickRegistry::detach_listener(NickEntry& e) {
    if (!e.listener) return;
    auto it = sockets_.find(*e.listener);
    if (it != sockets_.end() && it->second.nicks.erase(&e) > 0) {
        --attached_;
        // A socket entry exists only while it listens: PING_REPLY `listening` and STATUS read it so.
        if (it->second.nicks.empty()) sockets_.erase(it);
    }
    e.listener.reset();
}

void NickRegistry::detach_socket(std::string_view routing_id) {
    auto it = sockets_.find(routing_id);
    if (it == sockets_.end()) return;
    for (NickEntry* e : it->second.nicks) e->listener.reset();
    attached_ -= it->second.nicks.size();
    sockets_.erase(it);
}

ListenerSocket* NickRegistry::listener_socket(std::string_view routing_id) {
    auto it = sockets_.find(routing_id);
    return it == sockets_.end() ? nullptr : &it->second;
}

NickEntry* NickRegistry::listened_by(std::string_view routing_id, std::string_view nick) {
    NickEntry* e = find(nick);
    return e && e->listener && *e->listener == routing_id ? e : nullptr;
}

std::size_t NickRegistry::inboxed() const {
    std::size_t n = 0;
    for (const auto& [key, e] : nicks_) n += e.inbox.size();
    return n;
}

}  // namespace chatbus
