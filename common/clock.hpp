#pragma once
#include <chrono>
#include <cstdint>

namespace chatbus {

// Milliseconds on a monotonic clock: for deadlines and heartbeats.
inline std::int64_t mono_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Milliseconds since the Unix epoch: for timestamps users see.
inline std::uint64_t wall_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace chatbus
