#include "cli/report.hpp"

#include <cstdio>

#include "cli/exit_codes.hpp"

namespace chatbus::cli {

std::string format_seconds(std::chrono::milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

std::string no_answer_message(const Client& c) {
    // A CURVE handshake the broker refuses looks exactly like silence: name the likelier causes.
    return "no answer from " + c.endpoint() + " within " + format_seconds(c.timeout()) +
           (c.curve().enabled() ? " (is chatbus-broker running, is our public key in its client-keys, and is "
                                  "--broker-key its public key?)"
                                : " (is chatbus-broker running?)");
}

int report_failure(Output& out, const Client& c, const Outcome& o) {
    if (o.transport == Transport::timeout) {
        out.error("unreachable", no_answer_message(c));
        return kExitUnreachable;
    }
    std::string message = o.error.empty() ? std::string(status_message(o.status)) : o.error;
    out.error(status_name(o.status), message);
    return exit_code_for(o.status);
}

}  // namespace chatbus::cli
