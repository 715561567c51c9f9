#pragma once
// What every chatbus binary answers to --version, in one format so scripts and bug reports can rely on it:
// "PROGRAM VERSION (protocol P, BUILD_TYPE)", e.g. "chatctl 0.1.0 (protocol 1, RelWithDebInfo)".
#include <string>
#include <string_view>

namespace chatbus {

// CMake's project VERSION and CMAKE_BUILD_TYPE of this build.
std::string_view build_version();
std::string_view build_type();
// The whole line, without a newline. The protocol number is the codec's kProtocolVersion.
std::string version_line(std::string_view program);

}  // namespace chatbus
