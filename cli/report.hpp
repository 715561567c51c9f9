#pragma once
// Turning a failed request into the printed error and the exit code, the same way for every command.
#include <string>

#include "cli/client.hpp"
#include "cli/output.hpp"

namespace chatbus::cli {

// "no answer from tcp://127.0.0.1:5555 within 3s (is chatbus-broker running?)"
std::string no_answer_message(const Client& c);
// "3s", "0.5s"
std::string format_seconds(std::chrono::milliseconds d);

// Prints the failure of `o` (status `unreachable` for a client-side timeout) and returns its exit code.
int report_failure(Output& out, const Client& c, const Outcome& o);

}  // namespace chatbus::cli
