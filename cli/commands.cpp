#include "cli/commands.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iterator>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/exit_codes.hpp"
#include "cli/listener.hpp"
#include "cli/paged_request.hpp"
#include "cli/report.hpp"
#include "cli/token_store.hpp"
#include "common/json_forms.hpp"

namespace chatbus::cli {
namespace {

TokenStore store_for(const GlobalOptions& g) {
    return TokenStore(g.token_dir.empty() ? TokenStore::default_dir() : g.token_dir);
}

SavedNick acting_nick(const GlobalOptions& g) {
    return store_for(g).select(g.as);
}

// The listener a SIGINT/SIGTERM should stop; stop() only writes to a pipe, which is async-signal-safe.
Listener* g_active_listener = nullptr;

extern "C" void on_stop_signal(int) {
    if (g_active_listener) g_active_listener->stop();
}

int run_listener(Client& client, Output& out, ListenConfig cfg) {
    Listener listener(client, out, std::move(cfg));
    g_active_listener = &listener;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    struct sigaction old_int {
    }, old_term{};
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = listener.run();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    g_active_listener = nullptr;
    return rc;
}

std::string seq_range(std::uint64_t a, std::uint64_t b) {
    return a == b ? "#" + std::to_string(a) : "#" + std::to_string(a) + "-#" + std::to_string(b);
}

}  // namespace

std::string format_uptime(std::uint64_t ms) {
    std::uint64_t s = ms / 1000;
    const std::uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
    s %= 60;
    std::string out;
    if (d) out += std::to_string(d) + "d ";
    if (d || h) out += std::to_string(h) + "h ";
    if (d || h || m) out += std::to_string(m) + "m ";
    return out + std::to_string(s) + "s";
}

std::string resolve_broker(const std::optional<std::string>& flag) {
    if (flag && !flag->empty()) return *flag;
    if (const char* env = std::getenv("CHATBUS_BROKER"); env && *env) return env;
    return kDefaultBroker;
}

CurveClientKeys resolve_curve(const std::optional<std::string>& key_flag,
                              const std::optional<std::string>& broker_key_flag) {
    auto pick = [](const std::optional<std::string>& flag, const char* var) -> std::string {
        if (flag) return *flag;
        const char* env = std::getenv(var);
        return env ? env : "";
    };
    try {
        return load_client_keys(pick(key_flag, "CHATBUS_CURVE_KEY"), pick(broker_key_flag, "CHATBUS_BROKER_KEY"));
    } catch (const std::exception& e) {
        throw UsageError(std::string(e.what()) + " (--curve-key and --broker-key)");
    }
}

int cmd_keygen(Output& out, const std::string& name, const std::filesystem::path& dir) {
    // A plain file name: NAME ends up in paths and in the broker's allow-list directory.
    const bool ok_name = !name.empty() && name.size() <= 64 && name[0] != '.' &&
                         name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                             std::string::npos;
    if (!ok_name) throw UsageError("key name must be 1-64 characters from A-Z a-z 0-9 _ . - not starting with .");
    const CurveKeyPair keys = generate_keypair();
    write_key_files(dir, name, keys);
    const auto key = (dir / (name + ".key")).string(), pub = (dir / (name + ".pub")).string();
    out.result(nlohmann::ordered_json{{"name", name}, {"key_file", key}, {"pub_file", pub},
                                      {"public_key", keys.public_key}},
               "wrote " + key + " (key pair, keep it secret) and " + pub + " (public key " + keys.public_key + ")");
    return kExitOk;
}

std::string text_from_words(const std::vector<std::string>& words, std::istream& in) {
    if (words.size() == 1 && words[0] == "-") {
        std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!all.empty() && all.back() == '\n') all.pop_back();
        return all;
    }
    std::string text;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i) text.push_back(' ');
        text += words[i];
    }
    return text;
}

int guarded(Output& out, const std::function<int()>& body) {
    try {
        return body();
    } catch (const UsageError& e) {
        out.error("usage", e.what());
        return kExitUsage;
    } catch (const std::exception& e) {
        out.error("client_error", e.what());
        return kExitInternal;
    }
}

int cmd_register(const GlobalOptions& g, Output& out, const std::string& nick) {
    TokenStore store = store_for(g);
    // Fail before asking: a token the broker handed out but we could not save would be lost for good.
    store.ensure_dir();
    Client client(g.broker, g.timeout, g.curve);
    RegisterReply r;
    if (auto o = client.request(Register{.nick = nick}, r); !o.ok()) return report_failure(out, client, o);
    std::filesystem::path where;
    try {
        where = store.save({.nick = r.nick, .token = r.token});
    } catch (const std::exception& e) {
        out.error("client_error", std::string("registered ") + r.nick + " but could not save its token: " +
                                      e.what() + " (unregister is impossible without it; the nick is lost)");
        return kExitInternal;
    }
    out.result(nlohmann::ordered_json{{"nick", r.nick}},
               "registered " + r.nick + " (token saved in " + where.string() + ")");
    return kExitOk;
}

int cmd_unregister(const GlobalOptions& g, Output& out) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    UnregisterReply r;
    if (auto o = client.request(Unregister{.nick = me.nick, .token = me.token}, r); !o.ok()) {
        return report_failure(out, client, o);
    }
    store_for(g).remove(me.nick);
    out.result(nlohmann::ordered_json{{"nick", me.nick}}, "unregistered " + me.nick);
    return kExitOk;
}

int cmd_join(const GlobalOptions& g, Output& out, const std::string& room) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    JoinReply r;
    if (auto o = client.request(Join{.nick = me.nick, .token = me.token, .room = room}, r); !o.ok()) {
        return report_failure(out, client, o);
    }
    out.result(join_reply_json(r),
               r.joined ? me.nick + " joined " + r.room + " (#" + std::to_string(r.seq) + ")"
                        : me.nick + " is already in " + r.room);
    return kExitOk;
}

int cmd_leave(const GlobalOptions& g, Output& out, const std::string& room) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    LeaveReply r;
    if (auto o = client.request(Leave{.nick = me.nick, .token = me.token, .room = room}, r); !o.ok()) {
        return report_failure(out, client, o);
    }
    out.result(leave_reply_json(r), me.nick + " left " + r.room + " (#" + std::to_string(r.seq) + ")");
    return kExitOk;
}

int cmd_send_room(const GlobalOptions& g, Output& out, const std::string& room, const std::string& text) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    SendReply r;
    if (auto o = client.request(Send{.nick = me.nick, .token = me.token, .room = room, .texts = {text}}, r);
        !o.ok()) {
        return report_failure(out, client, o);
    }
    out.result(send_reply_json(r), "sent to " + r.room + " " + seq_range(r.first_seq, r.last_seq));
    return kExitOk;
}

int cmd_send_dm(const GlobalOptions& g, Output& out, const std::string& to, const std::string& text) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    DmReply r;
    if (auto o = client.request(Dm{.nick = me.nick, .token = me.token, .to = to, .text = text}, r); !o.ok()) {
        return report_failure(out, client, o);
    }
    out.result(dm_reply_json(r),
               "sent DM #" + std::to_string(r.id) + " to " + r.to +
                   (r.delivered ? " (delivered)" : " (kept in the inbox until " + r.to + " listens)"));
    return kExitOk;
}

int print_who(Client& client, Output& out, const std::string& room, Layout layout) {
    WhoReply r;
    if (auto o = client.request(Who{.room = room}, r); !o.ok()) return report_failure(out, client, o);
    std::string human = layout == Layout::one_line ? r.room + ": " : "";
    const char* sep = layout == Layout::one_line ? ", " : "\n";
    for (std::size_t i = 0; i < r.members.size(); ++i) human += (i ? sep : "") + r.members[i];
    out.result(who_reply_json(r), human);
    return kExitOk;
}

int cmd_who(const GlobalOptions& g, Output& out, const std::string& room) {
    Client client(g.broker, g.timeout, g.curve);
    return print_who(client, out, room, Layout::lines);
}

int print_rooms(Client& client, Output& out, Layout layout) {
    std::vector<RoomInfo> rooms;
    std::string human;
    auto o = follow_pages(client, Rooms{}, [&](RoomsReply& r) {
        for (const auto& info : r.rooms) {
            rooms.push_back(info);
            if (!human.empty()) human += layout == Layout::one_line ? ", " : "\n";
            human += info.room + " (" + std::to_string(info.members) +
                     (info.members == 1 ? " member)" : " members)");
        }
        return true;
    });
    if (!o.ok()) return report_failure(out, client, o);
    if (layout == Layout::one_line) human = "rooms: " + (human.empty() ? std::string("none") : human);
    out.result(rooms_json(rooms), human);
    return kExitOk;
}

int cmd_rooms(const GlobalOptions& g, Output& out) {
    Client client(g.broker, g.timeout, g.curve);
    return print_rooms(client, out, Layout::lines);
}

int print_history(Client& client, Output& out, const std::string& room, std::uint64_t last,
                  std::uint64_t since) {
    // Only the first page takes `last`: the count of events printed ends the later ones.
    std::uint64_t printed = 0;
    auto o = follow_pages(client, History{.room = room, .last = last, .since = since}, [&](HistoryReply& r) {
        for (auto& e : r.events) {
            if (last > 0 && printed == last) break;
            if (e.room.empty()) e.room = r.room;
            out.event(e);
            ++printed;
        }
        return last == 0 || printed < last;
    });
    return o.ok() ? kExitOk : report_failure(out, client, o);
}

int cmd_history(const GlobalOptions& g, Output& out, const std::string& room, std::uint64_t last,
                std::uint64_t since) {
    Client client(g.broker, g.timeout, g.curve);
    return print_history(client, out, room, last, since);
}

int cmd_status(const GlobalOptions& g, Output& out) {
    Client client(g.broker, g.timeout, g.curve);
    StatusReply r;
    if (auto o = client.request(StatusRequest{}, r); !o.ok()) return report_failure(out, client, o);
    std::ostringstream human;
    human << "broker " << (r.boot.empty() ? std::string("?") : r.boot) << ", up "
          << format_uptime(r.uptime_ms) << "\n";
    human << "nicks " << r.nicks << ", rooms " << r.rooms << ", listeners " << r.listeners << ", inboxed "
          << r.inboxed << ", requests " << r.requests << ", retried " << r.retried << ", moved " << r.moved
          << "\n";
    human << "workers: " << r.workers.size();
    for (const auto& w : r.workers) {
        human << "\n  " << w.id << " on " << w.host << " pid " << w.pid << ": " << w.rooms << " rooms, "
              << w.served << " served, last heartbeat " << w.last_heartbeat_ms << " ms ago";
    }
    human << "\ndropped:";
    if (r.dropped.empty()) human << " none";
    for (const auto& [cause, n] : r.dropped) human << " " << cause << " " << n;
    human << "\nrefused:";
    if (r.refused.empty()) human << " none";
    for (const auto& [cause, n] : r.refused) human << " " << cause << " " << n;
    out.result(status_reply_json(r), human.str());
    return kExitOk;
}

int cmd_listen(const GlobalOptions& g, Output& out, std::optional<std::uint64_t> count,
               std::optional<std::chrono::milliseconds> duration) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    return run_listener(
        client, out, ListenConfig{.me = me, .count = count, .duration = duration, .reconnect = g.reconnect});
}

int cmd_chat(const GlobalOptions& g, Output& out, const std::string& room) {
    SavedNick me = acting_nick(g);
    Client client(g.broker, g.timeout, g.curve);
    return run_listener(
        client, out,
        ListenConfig{.me = me, .chat_room = room, .input_fd = STDIN_FILENO, .reconnect = g.reconnect});
}

}  // namespace chatbus::cli
