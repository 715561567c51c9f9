#pragma once
// chatctl's exit codes (docs/chatctl.md). Scripts branch on these, so they are part of the interface.
#include "common/status.hpp"

namespace chatbus::cli {

enum ExitCode : int {
    kExitOk = 0,
    kExitInternal = 1,     // a bug or a local failure (e.g. the token file cannot be written)
    kExitUsage = 2,        // bad arguments, no or ambiguous saved nick
    kExitNotFound = 3,     // unknown_nick, not_registered, no_such_room
    kExitRefused = 4,      // every other non-ok status, and a listener detached by the broker
    kExitUnreachable = 5,  // client-side timeout, no_worker, timeout
};

// The chatctl exit column of the status table in docs/protocol.md.
int exit_code_for(Status s);

}  // namespace chatbus::cli
