#pragma once
// Request-rate limiting: a token bucket per client identity and per nick (docs/security.md, "Limits").
#include <cstdint>

namespace chatbus {

// `per_second` tokens are added per second up to `burst`; a request takes one. per_second <= 0: unlimited.
struct RateLimit {
    double per_second = 0;
    double burst = 1;
    bool unlimited() const { return per_second <= 0; }
};

// Time comes from the caller (milliseconds, monotonic), so tests drive it without sleeping.
class TokenBucket {
  public:
    // Takes one token if there is one. A bucket never used before starts full.
    bool take(const RateLimit& lim, std::int64_t now_ms);

  private:
    double tokens_ = -1;  // < 0: not used yet
    std::int64_t last_ms_ = 0;
};

}  // namespace chatbus
