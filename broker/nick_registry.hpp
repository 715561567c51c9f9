#pragma once
// Who holds which nick. A nick is proven by its token, of which only a hash is kept.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/inbox.hpp"
#include "common/status.hpp"
#include "common/token.hpp"
#include "broker/token_bucket.hpp"

namespace chatbus {

struct NickEntry {
    std::string display;  // as registered
    TokenHash token_hash{};
    std::string key;  // Z85 CURVE key the nick is bound to (bind-nicks-to-keys); empty: any key may act
    Inbox inbox;
    std::set<std::string> rooms;          // folded room names, mirrored from worker replies
    std::optional<std::string> listener;  // routing id of the attached listener
    std::int64_t listener_seen_ms = 0;
    TokenBucket rate;  // acting requests of this nick (nick-rate, nick-burst)
};

class NickRegistry {
  public:
    explicit NickRegistry(std::size_t inbox_limit) : inbox_limit_(inbox_limit) {}

    // On success returns the new token. With key binding on, the nick is bound to the caller's key.
    Status register_nick(std::string_view nick, std::string& token_out);
    // A registration read back from the state directory.
    void restore(const std::string& nick, const TokenHash& hash, const std::string& key = {});
    // The entry acting as `nick` if the token proves it (and, for a bound nick, the caller's key matches).
    Status authenticate(std::string_view nick, std::string_view token, NickEntry*& out);

    // Nick-to-key binding: on, register_nick binds nicks to the caller's key and authenticate checks it.
    void bind_keys(bool on) { bind_keys_ = on; }
    bool binds_keys() const { return bind_keys_; }
    // The CURVE key (Z85) of the peer whose request is being handled; set once per request, so every
    // register/authenticate of that request sees it without each call site passing it.
    void set_caller_key(std::string_view key) { caller_key_ = key; }
    NickEntry* find(std::string_view nick);
    void remove(std::string_view nick);

    // Listener bookkeeping: routing id -> folded nick, so a PING or DM_ACK finds its nick.
    void attach_listener(NickEntry& e, std::string routing_id, std::int64_t now_ms);
    void detach_listener(NickEntry& e);
    NickEntry* by_listener(std::string_view routing_id);

    std::size_t size() const { return nicks_.size(); }
    std::size_t listener_count() const { return listeners_.size(); }
    std::size_t inboxed() const;
    template <class F>
    void for_each(F&& f) {
        for (auto& [key, e] : nicks_) f(e);
    }

  private:
    std::size_t inbox_limit_;
    bool bind_keys_ = false;
    std::string caller_key_;
    std::unordered_map<std::string, NickEntry> nicks_;        // folded nick -> entry
    std::unordered_map<std::string, std::string> listeners_;  // routing id -> folded nick
};

}  // namespace chatbus
