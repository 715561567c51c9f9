#include "cli/exit_codes.hpp"

namespace chatbus::cli {

int exit_code_for(Status s) {
    switch (s) {
        case Status::ok:
            return kExitOk;
        case Status::unknown_nick:
        case Status::not_registered:
        case Status::no_such_room:
            return kExitNotFound;
        case Status::no_worker:
        case Status::timeout:
            return kExitUnreachable;
        default:
            return kExitRefused;
    }
}

}  // namespace chatbus::cli
