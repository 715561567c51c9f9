#pragma once
// The JSON forms of protocol objects: what chatctl prints with --json (docs/chatctl.md, "Output") and what
// the MQTT gateway publishes, defined once so both say the same thing. Keys come in the documented order
// (ordered_json keeps insertion order); json_text() writes a form as one line.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/messages.hpp"

namespace chatbus {

// Lines a listener prints, "type" first.
// {"type":"event","room":R,"seq":S,"kind":K,"nick":N,"text":T,"ts":MS}
nlohmann::ordered_json event_json(const Event& e);
// {"type":"dm","id":I,"from":N,"to":N,"text":T,"ts":MS}
nlohmann::ordered_json dm_json(const DmDeliver& d);
// {"type":"membership","room":R,"joined":B,"seq":S}: the nick is the listener's own, so it is left out.
nlohmann::ordered_json membership_json(const Membership& m);

// Replies: their payload fields only (no rid, status, error; chatctl puts "ok":true in front).
// {"room":R,"seq":S,"joined":B}
nlohmann::ordered_json join_reply_json(const JoinReply& r);
// {"room":R,"seq":S}
nlohmann::ordered_json leave_reply_json(const LeaveReply& r);
// {"room":R,"first_seq":A,"last_seq":B}
nlohmann::ordered_json send_reply_json(const SendReply& r);
// {"to":N,"id":I,"delivered":B}
nlohmann::ordered_json dm_reply_json(const DmReply& r);
// {"room":R,"members":[N,...]}
nlohmann::ordered_json who_reply_json(const WhoReply& r);
// {"room":R,"members":M}
nlohmann::ordered_json room_info_json(const RoomInfo& r);
// {"rooms":[room_info_json,...]}: the rooms of every ROOMS_REPLY page, in order.
nlohmann::ordered_json rooms_json(const std::vector<RoomInfo>& rooms);
// {"id":W,"host":H,"pid":P,"rooms":R,"served":S,"last_heartbeat_ms":MS}
nlohmann::ordered_json worker_info_json(const WorkerInfo& w);
// {"nicks":..,"rooms":..,"listeners":..,"inboxed":..,"requests":..,"retried":..,"moved":..,"boot":..,
//  "uptime_ms":..,"workers":[worker_info_json,...],"dropped":{CAUSE:N,...},"refused":{STATUS:N,...}}
nlohmann::ordered_json status_reply_json(const StatusReply& r);
// A HISTORY reply is printed as one event_json per event.

// `j` as one line of compact JSON. Strings stay UTF-8 (not \u-escaped); control characters below U+0020 are
// escaped; every ill-formed UTF-8 sequence becomes U+FFFD, so whatever bytes a peer sent the text is valid
// JSON and this never throws for them (nlohmann's dump() throws on invalid UTF-8 by default).
std::string json_text(const nlohmann::ordered_json& j);

}  // namespace chatbus
