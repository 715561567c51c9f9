#include "cli/paged_request.hpp"

namespace chatbus::cli {
namespace {

template <class Req, class Rep>
Outcome follow(Req req, const AskPage<Req, Rep>& ask, const TakePage<Rep>& take) {
    Outcome o;
    for (int page = 0; page < kMaxPages; ++page) {
        Rep r;
        o = ask(req, r);
        if (!o.ok() || !take(r) || !r.more || !advance(req, r)) break;
    }
    return o;
}

template <class Req, class Rep>
AskPage<Req, Rep> plain_request(Client& client) {
    return [&client](const Req& req, Rep& rep) { return client.request(req, rep); };
}

}  // namespace

bool advance(History& req, const HistoryReply& page) {
    if (page.events.empty() || page.events.back().seq <= req.since) return false;
    req.since = page.events.back().seq;
    req.last = 0;
    return true;
}

bool advance(Rooms& req, const RoomsReply& page) {
    if (page.rooms.empty() || page.rooms.back().room <= req.after) return false;
    req.after = page.rooms.back().room;
    return true;
}

Outcome follow_pages(History first, const AskPage<History, HistoryReply>& ask,
                     const TakePage<HistoryReply>& take) {
    return follow(std::move(first), ask, take);
}

Outcome follow_pages(Rooms first, const AskPage<Rooms, RoomsReply>& ask, const TakePage<RoomsReply>& take) {
    return follow(std::move(first), ask, take);
}

Outcome follow_pages(Client& client, History first, const TakePage<HistoryReply>& take) {
    return follow(std::move(first), plain_request<History, HistoryReply>(client), take);
}

Outcome follow_pages(Client& client, Rooms first, const TakePage<RoomsReply>& take) {
    return follow(std::move(first), plain_request<Rooms, RoomsReply>(client), take);
}

}  // namespace chatbus::cli
