#include "common/token_bucket.hpp"

#include <algorithm>

namespace chatbus {

bool TokenBucket::take(const RateLimit& lim, std::int64_t now_ms) {
    if (lim.unlimited()) return true;
    double burst = std::max(lim.burst, 1.0);
    if (tokens_ < 0) {
        tokens_ = burst;
    } else if (now_ms > last_ms_) {
        tokens_ = std::min(burst, tokens_ + static_cast<double>(now_ms - last_ms_) * lim.per_second / 1000.0);
    }
    // A clock that went backwards (it is monotonic, but tests may) refills nothing.
    last_ms_ = std::max(last_ms_, now_ms);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

}  // namespace chatbus
