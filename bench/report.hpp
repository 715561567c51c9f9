#pragma once
// One measurement = one `BENCH key=value ...` line; --markdown groups them into a table (median of runs).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Percentiles {
    double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};
// Sorts `ns` in place.
Percentiles percentiles(std::vector<std::int64_t>& ns);

struct Result {
    std::string system;  // chatbus | zmq-raw
    std::string link;    // chatbus: how its workers reached the broker (tcp | local); empty for raw
    std::string workload;
    std::string
        variant;  // distinguishes rows of one workload that share subs/size/inflight (scale: nicks|listeners)
    int subs = 0;
    std::size_t size = 0;
    int inflight = 0;
    std::string offered = "max";  // offered load (msg/s) for paced workloads
    std::uint64_t sent = 0, delivered = 0, lost = 0;
    double wall_s = 0, rate = 0;
    std::string unit;
    Percentiles lat;
    std::vector<std::pair<std::string, std::string>> extra;
};

// CPU time of the whole process (system under test and the benchmark's own clients) since construction.
class CpuMeter {
  public:
    CpuMeter();
    double seconds() const;

  private:
    double start_;
};
// Adds cpu_s and cpu_us_per_msg (per message sent) to `r`.
void add_cpu(Result& r, const CpuMeter& m);

class Report {
  public:
    // Prints the BENCH line at once (the smoke test and humans read stdout as it comes).
    void add(Result r);
    bool any_lost() const;
    void write_markdown(const std::string& path, const std::string& header) const;

  private:
    std::vector<Result> results_;
};

}  // namespace bench
