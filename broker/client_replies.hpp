#pragma once
// Broker::reply, for the files that answer clients: a template, so it is defined where it is used.
#include "broker/broker.hpp"
#include "common/status.hpp"

namespace chatbus {

template <class Reply>
void Broker::reply(const std::string& client, Reply rep, Status s, std::string_view detail) {
    rep.status = static_cast<std::uint64_t>(s);
    if (s != Status::ok) {
        rep.error = std::string(status_message(s));
        if (!detail.empty()) rep.error.append(": ").append(detail);
    }
    scratch_.clear();
    encode_into(scratch_, rep);
    send_to_client(client, scratch_);
}

}  // namespace chatbus
