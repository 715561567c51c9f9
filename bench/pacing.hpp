#pragma once
// Pacing for the latency measurements (latency, mqtt): sleep until the next message is due.
#include <cstdint>

namespace bench {

// Spinning would take a core from the system under test; the default 50 µs timer slack would add itself to
// every sample, so the calling thread asks for 1 ns.
void wait_until(std::int64_t t_ns);

}  // namespace bench
