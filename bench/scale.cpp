// scale: the real chatbus-broker as its own process (so /proc/PID/status VmRSS is the broker alone), with
// 100k registered nicks, then 10k attached listeners over 1k rooms, and one message per room to check
// fan-out. Baseline: this executable as a bare ROUTER (echo) + XPUB server holding the same connections.
//
// The listeners live in child processes because RLIMIT_NOFILE's hard limit here is 20,000 and cannot be
// raised without CAP_SYS_RESOURCE; every libzmq socket costs one fd (its mailbox) plus one per connection.
// For the same reason the broker side holds one SUB per room, not one per listener (10k DEALERs + 10k SUBs
// would need more than 20,000 fds in the broker).
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "bench/options.hpp"
#include "bench/proc.hpp"

namespace bench {

using namespace chatbus;

namespace {

struct Plan {
    std::uint64_t nicks;
    int listeners, rooms, children;
};

double mib(long kib) {
    return static_cast<double>(kib) / 1024.0;
}

// Keeps `window` requests in flight; make(i, rid) builds request i; ok(frame, rid) judges a reply.
std::uint64_t pipeline(Dealer& d, std::uint64_t count,
                       const std::function<std::string(std::uint64_t, std::uint64_t)>& make,
                       const std::function<bool(const zmq::message_t&, std::uint64_t&)>& ok) {
    constexpr std::uint64_t kWindow = 256;
    std::uint64_t next = 0, answered = 0, good = 0;
    auto& s = d.socket();
    auto last = now_ns();
    zmq::message_t m;
    while (answered < count) {
        while (next < count && next - answered < kWindow) {
            std::string f = make(next++, d.next_rid());
            s.send(zmq::buffer(f), zmq::send_flags::none);
        }
        zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
        zmq::poll(&item, 1, std::chrono::milliseconds(100));
        while (s.recv(m, zmq::recv_flags::dontwait)) {
            std::uint64_t rid = 0;
            ++answered;
            good += ok(m, rid) ? 1 : 0;
            last = now_ns();
        }
        if (now_ns() - last > 10'000'000'000) {
            spdlog::error("scale: no reply for 10 s");
            break;
        }
    }
    return good;
}

struct Stage {
    Result nicks, listeners;
};

// Starts listener children from plan files and waits until each reports ready. Returns false on failure.
std::vector<Child> start_children(const Plan& p, const std::string& mode, const std::string& client_ep,
                                  const std::string& events_ep, const std::vector<Identity>& who,
                                  const std::vector<std::string>& rooms, const std::string& dir,
                                  int& ok_listeners, int& ok_subs) {
    std::vector<Child> kids;
    for (int k = 0; k < p.children; ++k) {
        std::string path = dir + "/plan" + std::to_string(k);
        FILE* f = std::fopen(path.c_str(), "w");
        std::fprintf(f, "%s %s %s\n", mode.c_str(), client_ep.c_str(), events_ep.c_str());
        for (int i = k; i < p.listeners; i += p.children)
            std::fprintf(f, "L %s %s\n", who[i].nick.c_str(), who[i].token.c_str());
        for (int r = k; r < p.rooms; r += p.children) std::fprintf(f, "S %s\n", rooms[r].c_str());
        std::fclose(f);
        kids.push_back(spawn({self_exe(), "--scale-child", path}, true));
    }
    ok_listeners = ok_subs = 0;
    for (auto& c : kids) {
        std::string line;
        int a = 0, b = 0;
        if (read_line(c, line) && std::sscanf(line.c_str(), "ready %d %d", &a, &b) == 2) {
            ok_listeners += a;
            ok_subs += b;
        } else {
            spdlog::error("scale child said '{}'", line);
        }
    }
    return kids;
}

std::uint64_t collect_children(std::vector<Child>& kids) {
    std::uint64_t delivered = 0;
    for (auto& c : kids) {
        std::string line;
        unsigned long long n = 0;
        if (read_line(c, line) && std::sscanf(line.c_str(), "done %llu", &n) == 1) delivered += n;
        wait_child(c, 20000);
    }
    return delivered;
}

Result base(const char* system, const char* variant, const Plan& p) {
    Result r;
    r.system = system;
    r.workload = "scale";
    r.variant = variant;
    r.unit = "MiB_rss";
    r.subs = std::string(variant) == "listeners" ? p.listeners : 0;
    return r;
}

// Runs both stages against a server process; `chatbus` selects the protocol spoken.
Stage measure(const char* system, bool chatbus, const Plan& p, Child& server, const std::string& client_ep,
              const std::string& events_ep_in) {
    zmq::context_t ctx(1);
    Dealer d(ctx, client_ep);
    std::string events_ep = events_ep_in;
    // Ready when it answers.
    for (int i = 0;; ++i) {
        try {
            if (chatbus) {
                events_ep = events_endpoint(d);
            } else {
                d.socket().send(zmq::str_buffer("H"), zmq::send_flags::none);
                zmq::message_t m;
                d.socket().set(zmq::sockopt::rcvtimeo, 5000);
                if (!d.socket().recv(m)) throw std::runtime_error("raw server silent");
            }
            break;
        } catch (const std::exception&) {
            if (i == 2) throw;
        }
    }
    Stage st{base(system, "nicks", p), base(system, "listeners", p)};
    long idle = rss_kib(server.pid);

    // Stage 1: registrations.
    std::vector<Identity> who(p.listeners);
    std::uint64_t first_rid = 0;
    auto t0 = now_ns();
    std::uint64_t ok = pipeline(
        d, p.nicks,
        [&](std::uint64_t i, std::uint64_t rid) {
            if (i == 0) first_rid = rid;
            std::string nick = unique_name("n");
            if (i < who.size()) who[i].nick = nick;
            if (chatbus) return encode(Register{.rid = rid, .nick = nick});
            std::string f(8, '\0');
            std::memcpy(f.data(), &rid, 8);
            return "R" + f + nick;
        },
        [&](const zmq::message_t& m, std::uint64_t&) {
            if (!chatbus) return m.size() > 9;
            RegisterReply r;
            if (decode_as(view(m), r) != Status::ok || r.status != 0) return false;
            std::uint64_t i = r.rid - first_rid;
            if (i < who.size()) who[i].token = r.token;
            return true;
        });
    double secs = static_cast<double>(now_ns() - t0) / 1e9;
    long after_nicks = rss_kib(server.pid);
    st.nicks.sent = p.nicks;
    st.nicks.delivered = ok;
    st.nicks.lost = p.nicks - ok;
    st.nicks.wall_s = secs;
    st.nicks.rate = mib(after_nicks);
    st.nicks.extra = {{"rss_idle_mib", fmt::format("{:.1f}", mib(idle))},
                      {"registrations_per_s", fmt::format("{:.0f}", static_cast<double>(ok) / secs)}};

    // Stage 2: members, listeners, one subscriber per room, one message per room.
    std::vector<std::string> rooms;
    for (int r = 0; r < p.rooms; ++r) rooms.push_back(unique_name("room"));
    if (chatbus) {
        join_room(d, who[0], rooms[0]);  // waits until a worker is live
        std::uint64_t joined =
            1 +
            pipeline(
                d, p.listeners - 1,
                [&](std::uint64_t i, std::uint64_t rid) {
                    const auto& id = who[i + 1];
                    return encode(Join{
                        .rid = rid, .nick = id.nick, .token = id.token, .room = rooms[(i + 1) % p.rooms]});
                },
                [](const zmq::message_t& m, std::uint64_t&) {
                    JoinReply r;
                    return decode_as(view(m), r) == Status::ok && r.status == 0;
                });
        if (joined != static_cast<std::uint64_t>(p.listeners)) spdlog::error("scale: only {} joins", joined);
    }
    char dir_tmpl[] = "/tmp/chatbus-bench-XXXXXX";
    std::string dir = mkdtemp(dir_tmpl);
    int ok_l = 0, ok_s = 0;
    auto t1 = now_ns();
    auto kids =
        start_children(p, chatbus ? "chatbus" : "raw", client_ep, events_ep, who, rooms, dir, ok_l, ok_s);
    long after_listeners = rss_kib(server.pid);
    // One message per room, from the member whose index is the room's.
    std::uint64_t sent = pipeline(
        d, p.rooms,
        [&](std::uint64_t r, std::uint64_t rid) {
            if (chatbus)
                return encode(Send{.rid = rid,
                                   .nick = who[r].nick,
                                   .token = who[r].token,
                                   .room = rooms[r],
                                   .texts = {"hello " + rooms[r]}});
            return "P" + room_topic(rooms[r]) + "hello";
        },
        [&](const zmq::message_t& m, std::uint64_t&) {
            if (!chatbus) return true;
            SendReply r;
            return decode_as(view(m), r) == Status::ok && r.status == 0;
        });
    std::uint64_t delivered = collect_children(kids);
    std::filesystem::remove_all(dir);
    st.listeners.sent = sent;
    st.listeners.delivered = delivered;
    st.listeners.lost = static_cast<std::uint64_t>(p.rooms) - std::min<std::uint64_t>(p.rooms, delivered) +
                        static_cast<std::uint64_t>(p.listeners - ok_l) +
                        static_cast<std::uint64_t>(p.rooms - ok_s);
    st.listeners.wall_s = static_cast<double>(now_ns() - t1) / 1e9;
    st.listeners.rate = mib(after_listeners);
    st.listeners.extra = {{"rooms", std::to_string(p.rooms)},
                          {"listeners_attached", std::to_string(ok_l)},
                          {"room_subs_synced", std::to_string(ok_s)},
                          {"nicks", std::to_string(p.nicks)}};
    return st;
}

}  // namespace

void run_scale(const Options& o, Report& rep) {
    raise_fd_limit();
    Plan p = o.quick ? Plan{2000, 200, 20, 1} : Plan{100000, 10000, 1000, 3};
    for (int run = 0; run < o.runs; ++run) {
        for (bool chatbus : {true, false}) {
            if (chatbus ? !o.chatbus() : !o.raw()) continue;
            // The server binds ports the system chooses and names them in its ready file.
            const std::string any = "tcp://127.0.0.1:0";
            char dir_tmpl[] = "/tmp/chatbus-bench-ready-XXXXXX";
            const std::string ready = std::string(mkdtemp(dir_tmpl)) + "/ready";
            std::vector<Child> procs;
            std::map<std::string, std::string> ep;
            if (chatbus) {
                // A long heartbeat: listeners are attached for the whole stage without PINGing.
                procs.push_back(spawn({bin_dir() + "/chatbus-broker", "--client", any, "--worker", any,
                                       "--events", any, "--ready-file", ready, "--heartbeat-ms", "20000",
                                       "--log-level", "warn",
                                       // a benchmark is a flood by design: no flood limits
                                       "--client-rate", "0", "--nick-rate", "0", "--max-clients", "0",
                                       "--max-rooms-per-nick", "0", "--max-room-members", "0"}));
            } else {
                procs.push_back(spawn({self_exe(), "--raw-scale-server", ready}));
            }
            try {
                ep = wait_ready_file(ready, procs[0], 10000);
            } catch (const std::exception& ex) {
                spdlog::error("scale ({}): {}", chatbus ? "chatbus" : "raw", ex.what());
            }
            std::filesystem::remove_all(std::filesystem::path(ready).parent_path());
            const std::string c = ep["client"], e = ep["events"];
            if (chatbus && !ep.empty()) {
                for (int i = 0; i < 2; ++i)
                    procs.push_back(spawn({bin_dir() + "/chatbus-worker", "--broker", ep["worker"], "--log-level",
                                           "warn"}));
            }
            if (ep.empty()) {
                stop_child(procs[0]);
                continue;
            }
            try {
                Stage st = measure(chatbus ? "chatbus" : "zmq-raw", chatbus, p, procs[0], c, e);
                if (chatbus) st.nicks.link = st.listeners.link = "tcp";  // worker processes
                rep.add(std::move(st.nicks));
                rep.add(std::move(st.listeners));
            } catch (const std::exception& ex) {
                spdlog::error("scale ({}): {}", chatbus ? "chatbus" : "raw", ex.what());
            }
            for (std::size_t i = procs.size(); i-- > 0;) stop_child(procs[i]);
        }
    }
}

}  // namespace bench
