// DMs and the broker's notifications about attached nicks (docs/mqtt.md, "DMs"). A DM is acknowledged to the
// broker only once a session has taken it, so a gateway that dies loses none: the broker delivers it again.
#include <spdlog/spdlog.h>

#include "common/codec.hpp"
#include "common/names.hpp"
#include "gateway/hub.hpp"
#include "common/json_forms.hpp"
#include "gateway/topic_scheme.hpp"

namespace chatbus::gateway {

void Hub::on_dm(DmDeliver d) {
    std::string folded = fold_name(d.to);
    auto it = nicks_.find(folded);
    if (it == nicks_.end()) return;  // not ours any more: unacknowledged, it stays in the inbox
    NickState& n = it->second;
    n.display = d.to;
    // LISTEN again (after a broker restart, a replaced listener) sends the whole inbox again.
    if (d.id <= n.seen) return;
    n.seen = d.id;
    n.dms.push_back(HeldDm{d});
    // Offered from a copy, to a copy of the session list: a session taking it at once (QoS 0) pops it from
    // n.dms, and one closed as a slow consumer may end the nick's entry.
    auto sessions = n.sessions;
    for (MqttSession* s : sessions) offer_dm(folded, *s, d);
}

void Hub::offer_dm(const std::string& folded, MqttSession& s, const DmDeliver& d) {
    auto q = s.subscriptions().dm_qos();
    if (!q || s.closed()) return;
    std::uint64_t id = d.id;
    s.deliver(dm_topic_of(d.to), json_text(dm_json(d)), *q, [this, folded, id] { dm_taken(folded, id); });
}

void Hub::dms_wanted(MqttSession& s) {
    NickState* n = nick_of(s);
    if (!n) return;
    std::string folded = fold_name(n->display);
    std::vector<DmDeliver> waiting;
    for (const HeldDm& dm : n->dms)
        if (!dm.taken) waiting.push_back(dm.d);
    for (const DmDeliver& d : waiting) offer_dm(folded, s, d);
}

void Hub::dm_taken(const std::string& folded, std::uint64_t id) {
    auto it = nicks_.find(folded);
    if (it == nicks_.end()) return;
    NickState& n = it->second;
    for (HeldDm& dm : n.dms)
        if (dm.d.id == id) dm.taken = true;
    // DM_ACK is cumulative: acknowledge the taken run at the front only.
    std::uint64_t upto = 0;
    while (!n.dms.empty() && n.dms.front().taken) {
        upto = n.dms.front().d.id;
        n.dms.pop_front();
    }
    if (upto > 0) broker_.send(encode(DmAck{n.display, upto}));
}

void Hub::on_membership(const Membership& m) {
    auto it = nicks_.find(fold_name(m.nick));
    if (it == nicks_.end()) return;
    if (m.joined) add_member(it->second, fold_name(m.room), m.seq);
    else remove_member(it->second, fold_name(m.room));
}

void Hub::on_listen_end(const ListenEnd& e) {
    auto it = nicks_.find(fold_name(e.nick));
    if (it == nicks_.end()) return;
    spdlog::info("broker ended the listener of {} here ({})", e.nick, e.reason);
    if (e.reason == "unregistered") {
        if (!it->second.unregistering) close_sessions(it->second, CloseReason::unregistered);
    } else if (e.reason == "silent") {
        listen_all();
    }
    // "replaced": another gateway or a chatctl listener took the nick's DMs (docs/mqtt.md, "DMs"); taking them
    // back at once would make two gateways take turns.
    if (e.reason == "replaced") it->second.attached = false;
}

}  // namespace chatbus::gateway
