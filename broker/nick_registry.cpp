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
    // Checked after the token, so wrong_key tells only a token holder that the nick is bound elsewhere.
    if (bind_keys_ && !e->key.empty() && e->key != caller_key_) return Status::wrong_key;
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

void NickRegistry::attach_listener(NickEntry& e, std::string routing_id, std::int64_t now_ms) {
    detach_listener(e);
    // A socket listens for one nick at a time: re-attaching it elsewhere detaches it there.
    if (NickEntry* other = by_listener(routing_id)) detach_listener(*other);
    listeners_[routing_id] = fold_name(e.display);
    e.listener = std::move(routing_id);
    e.listener_seen_ms = now_ms;
    e.inbox.rewind();
}

void NickRegistry::detach_listener(NickEntry& e) {
    if (!e.listener) return;
    listeners_.erase(*e.listener);
    e.listener.reset();
}

NickEntry* NickRegistry::by_listener(std::string_view routing_id) {
    auto it = listeners_.find(std::string(routing_id));
    if (it == listeners_.end()) return nullptr;
    auto n = nicks_.find(it->second);
    return n == nicks_.end() ? nullptr : &n->second;
}

std::size_t NickRegistry::inboxed() const {
    std::size_t n = 0;
    for (const auto& [key, e] : nicks_) n += e.inbox.size();
    return n;
}

}  // namespace chatbus
