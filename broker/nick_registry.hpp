#pragma once
// Who holds which nick. A nick is proven by its token, of which only a hash is kept.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "inbox.hpp"
#include "status.hpp"
#include "token.hpp"
#include "token_bucket.hpp"

namespace chatbus {

struct NickEntry {
    std::string display;  // as registered
    TokenHash token_hash{};
    Inbox inbox;
    std::set<std::string> rooms;          // folded room names, mirrored from worker replies
    std::optional<std::string> listener;  // routing id of the attached listener
    std::int64_t listener_seen_ms = 0;
    TokenBucket rate;  // acting requests of this nick (nick-rate, nick-burst)
};

class NickRegistry {
  public:
    explicit NickRegistry(std::size_t inbox_limit) : inbox_limit_(inbox_limit) {}

    // On success returns the new token.
    Status register_nick(std::string_view nick, std::string& token_out);
    // A registration read back from the state directory.
    void restore(const std::string& nick, const TokenHash& hash);
    // The entry acting as `nick` if the token proves it.
    Status authenticate(std::string_view nick, std::string_view token, NickEntry*& out);
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
    std::unordered_map<std::string, NickEntry> nicks_;        // folded nick -> entry
    std::unordered_map<std::string, std::string> listeners_;  // routing id -> folded nick
};

}  // namespace chatbus
