#pragma once
// HISTORY and ROOMS answer in pages (docs/protocol.md): a reply says `more` when later items follow, and the
// next request starts after the last item of the page (HISTORY `since` its seq, ROOMS `after` its name). One
// loop follows both, for the listener and for the `history` and `rooms` commands.
#include <functional>

#include "cli/client.hpp"
#include "common/messages.hpp"

namespace chatbus::cli {

// Pages of one listing at most, in case a broker keeps saying more follow.
inline constexpr int kMaxPages = 100000;

// Moves `req` past the last item of `page` (a later HISTORY page takes no `last`). False when that would not
// move it forward (an empty page, or a cursor going back): a broker that stops making progress ends it.
bool advance(History& req, const HistoryReply& page);
bool advance(Rooms& req, const RoomsReply& page);

template <class Req, class Rep>
using AskPage = std::function<Outcome(const Req&, Rep&)>;
template <class Rep>
using TakePage = std::function<bool(Rep&)>;

// Asks `first` with `ask` and hands the reply to `take`, then the next page while the broker says more
// follow, `take` returns true and the cursor moves forward. The outcome of the last page asked: when one
// fails, the pages before it were taken already.
Outcome follow_pages(History first, const AskPage<History, HistoryReply>& ask,
                     const TakePage<HistoryReply>& take);
Outcome follow_pages(Rooms first, const AskPage<Rooms, RoomsReply>& ask, const TakePage<RoomsReply>& take);

// The same, each page a plain request of `client`.
Outcome follow_pages(Client& client, History first, const TakePage<HistoryReply>& take);
Outcome follow_pages(Client& client, Rooms first, const TakePage<RoomsReply>& take);

}  // namespace chatbus::cli
