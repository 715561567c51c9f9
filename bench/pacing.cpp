#include "bench/pacing.hpp"

#include <sys/prctl.h>

#include <chrono>
#include <thread>

#include "bench/client.hpp"

namespace bench {

void wait_until(std::int64_t t_ns) {
    static thread_local bool slack_set = (prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0), true);
    (void)slack_set;
    std::int64_t left = t_ns - now_ns();
    if (left > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(left));
}

}  // namespace bench
