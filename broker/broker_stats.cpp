#include "broker/broker_stats.hpp"

namespace chatbus {

void BrokerStats::fill(StatusReply& rep) const {
    rep.requests = requests;
    rep.retried = retried;
    rep.moved = moved;
    // Every cause is listed, zero or not, so a client can tell "none" from "not counted".
    rep.dropped["malformed"] = dropped.malformed;
    rep.dropped["worker_timeout"] = dropped.worker_timeout;
    rep.dropped["unroutable"] = dropped.unroutable;
    rep.dropped["seq_break"] = dropped.seq_break;
    rep.dropped["slow_subscriber"] = dropped.slow_subscriber;
    for (std::size_t i = 0; i < refused.size(); ++i) {
        if (refused[i] > 0) rep.refused.emplace(status_name(static_cast<Status>(i)), refused[i]);
    }
}

}  // namespace chatbus
