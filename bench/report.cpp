#include "bench/report.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <tuple>

#include <spdlog/spdlog.h>

namespace bench {

Percentiles percentiles(std::vector<std::int64_t>& ns) {
    Percentiles p;
    if (ns.empty()) return p;
    std::sort(ns.begin(), ns.end());
    auto at = [&](double q) {
        auto i = static_cast<std::size_t>(q * static_cast<double>(ns.size() - 1) + 0.5);
        return static_cast<double>(ns[std::min(i, ns.size() - 1)]) / 1000.0;
    };
    p.p50_us = at(0.50);
    p.p99_us = at(0.99);
    p.p999_us = at(0.999);
    p.max_us = static_cast<double>(ns.back()) / 1000.0;
    return p;
}

namespace {
double process_cpu_s() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return s(u.ru_utime) + s(u.ru_stime);
}
}  // namespace

CpuMeter::CpuMeter() : start_(process_cpu_s()) {}
double CpuMeter::seconds() const {
    return process_cpu_s() - start_;
}

void add_cpu(Result& r, const CpuMeter& m) {
    double s = m.seconds();
    r.extra.emplace_back("cpu_s", fmt::format("{:.2f}", s));
    if (r.sent)
        r.extra.emplace_back("cpu_us_per_msg", fmt::format("{:.2f}", s * 1e6 / static_cast<double>(r.sent)));
}

void Report::add(Result r) {
    std::string line = fmt::format(
        "BENCH system={} workload={} subs={} size={} inflight={} offered={} sent={} delivered={} lost={} "
        "wall_s={:.3f} rate={:.1f} unit={} p50_us={:.1f} p99_us={:.1f} p999_us={:.1f} max_us={:.1f}",
        r.system, r.workload, r.subs, r.size, r.inflight, r.offered, r.sent, r.delivered, r.lost, r.wall_s,
        r.rate, r.unit, r.lat.p50_us, r.lat.p99_us, r.lat.p999_us, r.lat.max_us);
    if (!r.link.empty()) line += " workers=" + r.link;
    if (!r.variant.empty()) line += " variant=" + r.variant;
    for (const auto& [k, v] : r.extra) line += " " + k + "=" + v;
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    results_.push_back(std::move(r));
}

bool Report::any_lost() const {
    return std::any_of(results_.begin(), results_.end(), [](const Result& r) { return r.lost != 0; });
}

namespace {

// Series of one group: chatbus with TCP workers, chatbus with local workers (a row of its own), and the peer
// each is compared with: raw libzmq, or (mqtt) Mosquitto or a ZeroMQ SUB client measured on the same cluster,
// whose local-workers runs are series of their own too.
std::string series_of(const Result& r) {
    return r.link == "local" ? r.system + "+local" : r.system;
}

using Groups = std::map<std::string, std::vector<const Result*>>;

// The peer series a chatbus series is compared with: the one measured the same way when there is one.
std::string peer_of(const Groups& g, const std::string& series) {
    std::string plain;
    for (const auto& [name, rs] : g) {
        if (rs.empty() || name.rfind("chatbus", 0) == 0) continue;
        const bool local = name.ends_with("+local");
        if (local && series == "chatbus+local") return name;
        if (!local && plain.empty()) plain = name;
    }
    return plain.empty() ? "zmq-raw" : plain;
}

// The figure each workload is judged by; ratios compare it between chatbus and raw libzmq.
enum class Primary { rate, p50 };
Primary primary_of(const std::string& workload, const std::string& variant) {
    const bool p50 =
        workload == "latency" || workload == "cli" || (workload == "mqtt" && variant == "latency");
    return p50 ? Primary::p50 : Primary::rate;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt_num(double x) {
    if (x >= 1e6) return fmt::format("{:.2f} M", x / 1e6);
    if (x >= 1e4) return fmt::format("{:.1f} k", x / 1e3);
    if (x >= 100) return fmt::format("{:.0f}", x);
    return fmt::format("{:.1f}", x);
}

// "median (min–max)" over runs, or just the value for a single run.
std::string spread(const std::vector<double>& v) {
    if (v.empty()) return "–";
    double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    if (v.size() == 1) return fmt_num(v[0]);
    return fmt_num(median(v)) + " (" + fmt_num(lo) + "–" + fmt_num(hi) + ")";
}

// A workload with raw baselines of different shapes (rr) names on each raw line the one it ran.
std::string baseline_of(const std::vector<const Result*>& raw) {
    if (raw.empty()) return "";
    for (const auto& [k, v] : raw.front()->extra)
        if (k == "baseline") return v;
    return "";
}

}  // namespace

void Report::write_markdown(const std::string& path, const std::string& header) const {
    using Key = std::tuple<std::string, std::string, int, std::size_t, int, std::string>;
    std::vector<Key> order;
    std::map<Key, Groups> groups;
    for (const auto& r : results_) {
        // fanout's window is chatbus-only (raw has no acks), so it does not split rows there.
        // rr's size is its request frame, whose names grow with the run counter: not a different case.
        Key k{r.workload,
              r.variant,
              r.subs,
              r.workload == "rr" ? 0 : r.size,
              r.workload == "fanout" ? 0 : r.inflight,
              r.offered};
        if (!groups.count(k)) order.push_back(k);
        groups[k][series_of(r)].push_back(&r);
    }
    std::ofstream out(path);
    out << header << "\n\n";
    out << "| workload | case | unit | chatbus | peer | chatbus ÷ peer | chatbus p50 / p99 µs | peer p50 / "
           "p99 µs "
           "| lost |\n";
    out << "|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& k : order) {
        for (const std::string& series : {std::string("chatbus"), std::string("chatbus+local")}) {
            auto& g = groups[k];
            // The raw-only rows (a baseline with no chatbus counterpart) print once, under "chatbus".
            if (g[series].empty() && (series != "chatbus" || !g["chatbus+local"].empty())) continue;
            const auto& [workload, variant, subs, size, inflight, offered] = k;
            auto metric = [&](const std::string& sys, auto f) {
                std::vector<double> v;
                for (const Result* r : g[sys]) v.push_back(f(*r));
                return v;
            };
            const std::string peer = peer_of(g, series);
            Primary p = primary_of(workload, variant);
            auto prim = [p](const Result& r) { return p == Primary::rate ? r.rate : r.lat.p50_us; };
            auto cb = metric(series, prim), raw = metric(peer, prim);
            std::string unit =
                g[series].empty() ? (g[peer].empty() ? "" : g[peer].front()->unit) : g[series].front()->unit;
            if (p == Primary::p50) unit = "p50 µs";
            std::string ratio = (cb.empty() || raw.empty() || median(raw) == 0)
                                    ? "–"
                                    : fmt::format("{:.2f}×", median(cb) / median(raw));
            if (cb.size() == raw.size() && cb.size() > 1) {
                // Each chatbus measurement is followed by its raw one: on a busy machine the ratio within a
                // run moves far less than either number, so the median of those ratios is the figure to read.
                std::vector<double> paired;
                for (std::size_t i = 0; i < cb.size(); ++i) {
                    if (raw[i] > 0) paired.push_back(cb[i] / raw[i]);
                }
                if (paired.size() == cb.size()) {
                    auto [lo, hi] = std::minmax_element(paired.begin(), paired.end());
                    ratio = fmt::format("{:.2f}× ({:.2f}–{:.2f})", median(paired), *lo, *hi);
                }
            }
            auto lat = [&](const std::string& sys) {
                auto p50 = metric(sys, [](const Result& r) { return r.lat.p50_us; });
                auto p99 = metric(sys, [](const Result& r) { return r.lat.p99_us; });
                if (p50.empty() || median(p99) == 0) return std::string("–");
                return fmt_num(median(p50)) + " / " + fmt_num(median(p99));
            };
            std::uint64_t lost = 0;
            for (const std::string& sys : {series, peer})
                for (const Result* r : g[sys]) lost += r->lost;
            std::string cas;
            if (!variant.empty()) cas += variant + " ";
            if (subs) cas += fmt::format("subs={} ", subs);
            if (size) cas += fmt::format("{} B ", size);
            if (inflight) cas += fmt::format("inflight={} ", inflight);
            if (offered != "max") cas += fmt::format("{} msg/s", offered);
            while (!cas.empty() && cas.back() == ' ') cas.pop_back();
            if (std::string b = baseline_of(g[peer]); !b.empty())
                cas += " vs " + b;
            else if (std::string name = peer.substr(0, peer.find('+')); name != "zmq-raw")
                cas += " vs " + name;
            if (series == "chatbus+local") cas += cas.empty() ? "(local workers)" : " (local workers)";
            out << "| " << workload << " | " << cas << " | " << unit << " | " << spread(cb) << " | "
                << spread(raw) << " | " << ratio << " | " << lat(series) << " | " << lat(peer) << " | "
                << lost << " |\n";
        }
    }
    spdlog::info("wrote {}", path);
}

}  // namespace bench
