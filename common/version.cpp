#include "common/version.hpp"

#include "common/codec.hpp"

// Defined for this file only, by common/CMakeLists.txt.
#ifndef CHATBUS_VERSION
#error "CHATBUS_VERSION must be defined by the build"
#endif
#ifndef CHATBUS_BUILD_TYPE
#error "CHATBUS_BUILD_TYPE must be defined by the build"
#endif

namespace chatbus {

std::string_view build_version() {
    return CHATBUS_VERSION;
}

std::string_view build_type() {
    return CHATBUS_BUILD_TYPE;
}

std::string version_line(std::string_view program) {
    return std::string(program) + " " + std::string(build_version()) + " (protocol " +
           std::to_string(kProtocolVersion) + ", " + std::string(build_type()) + ")";
}

}  // namespace chatbus
