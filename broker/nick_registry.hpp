#pragma once
// Who holds which nick, and which sockets listen for them. A nick is proven by its token, of which only a
// hash is kept.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "broker/inbox.hpp"
#include "common/status.hpp"
#include "common/token.hpp"
#include "common/token_bucket.hpp"

namespace chatbus {

struct NickEntry {
    std::string display;  // as registered
    TokenHash token_hash{};
    std::string key;  // Z85 CURVE key the nick is bound to (bind-nicks-to-keys); empty: any key may act
    Inbox inbox;
    std::set<std::string> rooms;          // folded room names, mirrored from worker replies
    std::optional<std::string> listener;  // routing id of the socket listening for this nick
    TokenBucket rate;  // acting requests of this nick (nick-rate, nick-burst)
};

// A socket listening for nicks. Liveness is the socket's (docs/protocol.md, LISTEN): a gateway listens for
// thousands of nicks over one socket, and one PING must keep all of them attached without touching each.
struct ListenerSocket {
    std::unordered_set<NickEntry*> nicks;  // entries of the registry, which never move while registered
    std::int64_t seen_ms = 0;
};

class NickRegistry {
  public:
    explicit NickRegistry(std::size_t inbox_limit) : inbox_limit_(inbox_limit) {}

    // On success returns the new token. With key binding on, the nick is bound to the caller's key.
    Status register_nick(std::string_view nick, std::string& token_out);
    // A registration read back from the state directory.
    void restore(const std::string& nick, const TokenHash& hash, const std::string& key = {});
    // The entry acting as `nick` if the token proves it (and, for a bound nick, the caller's key matches or
    // is a gateway key).
    Status authenticate(std::string_view nick, std::string_view token, NickEntry*& out);

    // Nick-to-key binding: on, register_nick binds nicks to the caller's key and authenticate checks it.
    void bind_keys(bool on) { bind_keys_ = on; }
    bool binds_keys() const { return bind_keys_; }
    // The CURVE key (Z85) of the peer whose request is being handled, and whether it is a gateway key; set
    // once per request, so every register/authenticate of that request sees it without each call site
    // passing it.
    void set_caller(std::string_view key, bool gateway_key) {
        caller_key_ = key;
        caller_gateway_ = gateway_key;
    }
    NickEntry* find(std::string_view nick);
    void remove(std::string_view nick);

    // Attaches the socket `routing_id` as the listener of `e` (detaching the socket that listened before, if
    // another) and counts it as heard from at `now_ms`. The socket's other nicks stay attached.
    void attach_listener(NickEntry& e, const std::string& routing_id, std::int64_t now_ms);
    void detach_listener(NickEntry& e);
    // Detaches `routing_id` from every nick it listens for.
    void detach_socket(std::string_view routing_id);
    // The socket's listening state; nullptr when it listens for no nick.
    ListenerSocket* listener_socket(std::string_view routing_id);
    // The entry of `nick` when `routing_id` is its listener, else nullptr.
    NickEntry* listened_by(std::string_view routing_id, std::string_view nick);
    // Detaches every socket not heard from since `deadline` from all its nicks, calling
    // on_detach(routing_id, entry) for each nick first. Scans the sockets, not the nicks.
    template <class F>
    void expire_listeners(std::int64_t deadline, F&& on_detach);

    std::size_t size() const { return nicks_.size(); }
    std::size_t listener_count() const { return attached_; }  // nicks with a listener
    std::size_t listener_socket_count() const { return sockets_.size(); }
    std::size_t inboxed() const;
    template <class F>
    void for_each(F&& f) {
        for (auto& [key, e] : nicks_) f(e);
    }

  private:
    // Lets the sockets be found by a string_view without building a string per frame.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };

    std::size_t inbox_limit_;
    bool bind_keys_ = false;
    std::string caller_key_;
    bool caller_gateway_ = false;
    std::unordered_map<std::string, NickEntry> nicks_;                                // folded nick -> entry
    std::unordered_map<std::string, ListenerSocket, Hash, std::equal_to<>> sockets_;  // routing id -> socket
    std::size_t attached_ = 0;
};

template <class F>
void NickRegistry::expire_listeners(std::int64_t deadline, F&& on_detach) {
    std::vector<std::string> silent;
    for (const auto& [id, s] : sockets_) {
        if (s.seen_ms < deadline) silent.push_back(id);
    }
    for (const std::string& id : silent) {
        auto it = sockets_.find(id);
        for (NickEntry* e : it->second.nicks) {
            on_detach(id, *e);
            e->listener.reset();
            --attached_;
        }
        sockets_.erase(it);
    }
}

}  // namespace chatbus
