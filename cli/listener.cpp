#include "listener.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "chat.hpp"
#include "clock.hpp"
#include "codec.hpp"
#include "endpoint.hpp"
#include "event_kind.hpp"
#include "exit_codes.hpp"
#include "report.hpp"

namespace chatbus::cli {
namespace {

using std::chrono::milliseconds;

std::string random_nonce() {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::uniform_int_distribution<int> pick(0, 35);
    std::string s;
    for (int i = 0; i < 16; ++i) s.push_back(kAlphabet[pick(rd)]);
    return s;
}

// Attempts at a HISTORY answered no_worker/timeout, a heartbeat apart: a restarted broker makes requests for
// rooms it has no copy of wait for liveness (3) heartbeats while workers hand them back.
constexpr int kHistoryAttempts = 6;

bool same_nick(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        return lower(x) == lower(y);
    });
}

std::string recv_one(zmq::socket_t& s, bool& got) {
    zmq::message_t m;
    got = false;
    try {
        if (!s.recv(m, zmq::recv_flags::dontwait)) return {};
    } catch (const zmq::error_t&) {
        return {};
    }
    got = true;
    return std::string(m.data<char>(), m.size());
}

}  // namespace

Listener::Listener(Client& client, Output& out, ListenConfig cfg)
    : client_(client), out_(out), cfg_(std::move(cfg)), sub_(client.context(), zmq::socket_type::sub) {
    sub_.set(zmq::sockopt::linger, 0);
    // The events socket authenticates like the client socket, with the same keys.
    make_curve_client(sub_, client.curve());
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
    if (cfg_.chat_room) {
        chat_ = std::make_unique<ChatSession>(client_, out_, cfg_.me, cfg_.input_fd);
        out_.set_chat_lines(true);
    }
}

Listener::~Listener() {
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void Listener::stop() noexcept {
    stop_requested_.store(true);
    char c = 1;
    [[maybe_unused]] auto r = ::write(wake_[1], &c, 1);
}

void Listener::finish(int code) {
    if (done_) return;
    done_ = true;
    exit_code_ = code;
}

void Listener::fatal_unreachable(const std::string& message) {
    if (done_) return;
    out_.error("unreachable", message);
    broker_lost_ = true;
    finish(kExitUnreachable);
}

void Listener::notice(const std::string& text) {
    spdlog::debug("{}", text);
    out_.notice(text);
}

void Listener::unreachable(const std::string& why) {
    if (done_) return;
    if (cfg_.reconnect.count() <= 0) return fatal_unreachable(why);
    resync_needed_ = true;
    const std::int64_t now = mono_ms();
    if (!lost_since_) {
        lost_since_ = now;
        notice("lost contact with the broker (" + why + "); trying again for up to " +
               format_seconds(cfg_.reconnect));
    } else if (now - *lost_since_ >= cfg_.reconnect.count()) {
        fatal_unreachable("lost contact with the broker at " + client_.endpoint() + ": no answer for " +
                          format_seconds(cfg_.reconnect) + " (--reconnect)");
    }
}

void Listener::recovered(bool restarted) {
    if (lost_since_) {
        lost_since_.reset();
        notice("the broker at " + client_.endpoint() + " answers again" +
               (restarted ? " (it restarted): listening again" : "") + "; missed room events were fetched");
    } else if (restarted) {
        notice("the broker at " + client_.endpoint() +
               " restarted: listening again; missed room events were fetched");
    }
}

bool Listener::pause(std::chrono::milliseconds d) {
    const std::int64_t deadline = mono_ms() + d.count();
    while (!stop_requested_) {
        const std::int64_t left = deadline - mono_ms();
        if (left <= 0) return true;
        zmq::pollitem_t item{nullptr, wake_[0], ZMQ_POLLIN, 0};
        try {
            zmq::poll(&item, 1, milliseconds(left));
        } catch (const zmq::error_t&) {
        }
    }
    return false;
}

int Listener::run() {
    if (int rc = setup(); rc != kExitOk || done_) {
        shutdown();
        return done_ ? exit_code_ : rc;
    }
    loop();
    shutdown();
    return exit_code_;
}

int Listener::setup() {
    HelloReply hello;
    if (auto o = client_.request(Hello{}, hello); !o.ok()) return report_failure(out_, client_, o);
    events_endpoint_ = resolve_advertised(hello.events, client_.endpoint());
    if (hello.limits.heartbeat_ms > 0) heartbeat_ = milliseconds(hello.limits.heartbeat_ms);
    boot_ = hello.boot;

    if (chat_) {
        if (auto o = chat_->enter(*cfg_.chat_room); !o.ok()) return report_failure(out_, client_, o);
    }

    ListenReply lr;
    if (auto o = client_.request(Listen{.nick = cfg_.me.nick, .token = cfg_.me.token}, lr); !o.ok()) {
        return report_failure(out_, client_, o);
    }
    attached_ = true;

    sub_.set(zmq::sockopt::rcvhwm, 100000);
    sub_.connect(events_endpoint_);
    for (const auto& r : lr.rooms) {
        rooms_.emplace(r, std::nullopt);
        sub_.set(zmq::sockopt::subscribe, room_topic(r));
    }
    switch (sync()) {
        case SyncResult::ok:
            break;
        case SyncResult::stopped:
            finish(kExitOk);
            return kExitOk;
        case SyncResult::timeout:
            fatal_unreachable("no subscription confirmation from " + events_endpoint_ + " within " +
                              format_seconds(client_.timeout()) + " (is the events endpoint reachable?)");
            return exit_code_;
    }
    if (cfg_.reconnect.count() > 0) {
        // Where a catch-up after an outage starts for a room in which nothing was printed by then: every
        // event after this one is either shown live or, if the outage lost it, fetched.
        for (const auto& r : lr.rooms) {
            HistoryReply hr;
            auto o = client_.request(History{.room = r, .last = 1}, hr);
            if (o.transport == Transport::timeout) break;  // the heartbeat will notice
            if (o.ok()) floor_[r] = hr.events.empty() ? 0 : hr.events.back().seq;
        }
    }
    out_.ready(cfg_.me.nick, lr.rooms);
    if (chat_) {
        show_recent(chat_->current());
        chat_->greet();
    }
    return kExitOk;
}

void Listener::show_recent(const std::string& room) {
    HistoryReply hr;
    auto o = history(room, 0, kChatRecent, hr);
    if (!o.ok()) {
        notice("[" + room + "] its last events could not be fetched (" + std::string(status_name(o.status)) +
               ")");
        return;
    }
    for (auto& ev : hr.events) {
        if (ev.room.empty()) ev.room = room;
        auto it = rooms_.find(room);
        if (done_ || it == rooms_.end()) return;
        if (!it->second || ev.seq > *it->second) print_event(ev);
    }
}

Listener::SyncResult Listener::sync() {
    const std::string nonce = random_nonce();
    const std::string topic = sync_topic(nonce);
    sub_.set(zmq::sockopt::subscribe, topic);
    const std::int64_t deadline = mono_ms() + client_.timeout().count();
    SyncResult result = SyncResult::timeout;
    while (result == SyncResult::timeout) {
        if (stop_requested_) {
            result = SyncResult::stopped;
            break;
        }
        std::int64_t left = deadline - mono_ms();
        if (left <= 0) break;
        zmq::pollitem_t items[] = {{sub_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_[0], ZMQ_POLLIN, 0}};
        try {
            zmq::poll(items, 2, milliseconds(left));
        } catch (const zmq::error_t&) {
            continue;  // EINTR: re-check the stop flag
        }
        if (!(items[0].revents & ZMQ_POLLIN)) continue;
        for (bool got = true; got;) {
            std::string frame = recv_one(sub_, got);
            if (!got) break;
            Decoded d;
            if (decode_topic_frame(frame, d) != Status::ok) continue;
            if (d.type == MsgType::sync) {
                Sync s;
                if (body_as(d, s) == Status::ok && s.nonce == nonce) {
                    result = SyncResult::ok;
                    break;
                }
            } else if (d.type == MsgType::event) {
                Event e;
                if (body_as(d, e) == Status::ok) {
                    note_received(e);
                    pending_.push_back(std::move(e));
                }
            }
        }
    }
    sub_.set(zmq::sockopt::unsubscribe, topic);
    return result;
}

void Listener::loop() {
    const std::int64_t end =
        cfg_.duration ? mono_ms() + cfg_.duration->count() : std::numeric_limits<std::int64_t>::max();
    ping_due_ = mono_ms() + heartbeat_.count();
    const bool chat_input = cfg_.chat_room && cfg_.input_fd >= 0;

    while (!done_) {
        while (!pending_.empty() && !done_) {
            Event e = std::move(pending_.front());
            pending_.pop_front();
            on_event(e);
        }
        while (client_.has_queued() && !done_) {
            if (auto f = client_.poll_notification(milliseconds(0))) handle_notification(*f);
        }
        if (done_) break;
        if (stop_requested_) return finish(kExitOk);

        std::int64_t now = mono_ms();
        if (now >= end) return finish(kExitOk);
        if (now >= ping_due_) {
            ping();
            ping_due_ = mono_ms() + heartbeat_.count();
            continue;
        }

        zmq::pollitem_t items[] = {
            {client_.socket().handle(), 0, ZMQ_POLLIN, 0},
            {sub_.handle(), 0, ZMQ_POLLIN, 0},
            {nullptr, wake_[0], ZMQ_POLLIN, 0},
            {nullptr, chat_input ? cfg_.input_fd : -1, static_cast<short>(chat_input ? ZMQ_POLLIN : 0), 0},
        };
        try {
            zmq::poll(items, chat_input ? 4 : 3, milliseconds(std::min(end, ping_due_) - now));
        } catch (const zmq::error_t& e) {
            if (e.num() == EINTR) continue;
            throw;
        }
        if (items[2].revents & ZMQ_POLLIN) return finish(kExitOk);
        if (items[0].revents & ZMQ_POLLIN) {
            // Bounded so a flood of DMs cannot starve the heartbeat.
            for (int i = 0; i < 1000 && !done_; ++i) {
                auto f = client_.poll_notification(milliseconds(0));
                if (!f) break;
                handle_notification(*f);
            }
        }
        if ((items[1].revents & ZMQ_POLLIN) && !done_) drain_sub(1000);
        if (chat_input && (items[3].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) && !done_) read_input();
    }
}

void Listener::shutdown() {
    if (!attached_) return;
    attached_ = false;
    if (unreported_ > 0 && !broker_lost_ && !lost_since_) {
        // Still attached: the broker takes the last report of lost events before the UNLISTEN.
        PingReply pr;
        client_.request(Ping{.missed = unreported_}, pr, std::min(client_.timeout(), milliseconds(1000)));
    }
    client_.notify(Unlisten{.nick = cfg_.me.nick});
    if (broker_lost_ || lost_since_)
        return;  // waiting for a broker that stopped answering would only delay the exit
    // The PING's reply proves the UNLISTEN before it arrived (same connection, in order); the socket has no
    // linger, so without it the UNLISTEN could be dropped at exit and the broker would wait for a timeout.
    PingReply pr;
    client_.request(Ping{}, pr, std::min(client_.timeout(), milliseconds(1000)));
}

void Listener::drain_sub(std::size_t max_frames) {
    for (std::size_t i = 0; i < max_frames && !done_; ++i) {
        bool got = false;
        std::string frame = recv_one(sub_, got);
        if (!got) return;
        handle_sub_frame(frame);
    }
}

void Listener::handle_sub_frame(std::string_view frame) {
    Decoded d;
    if (Status s = decode_topic_frame(frame, d); s != Status::ok) {
        spdlog::debug("ignoring undecodable event frame ({})", status_name(s));
        return;
    }
    if (d.type != MsgType::event) return;  // late SYNCs of earlier nonces
    Event e;
    if (body_as(d, e) != Status::ok) {
        spdlog::debug("ignoring malformed event");
        return;
    }
    note_received(e);
    on_event(e);
}

void Listener::handle_notification(std::string_view frame) {
    Decoded d;
    if (decode(frame, d) != Status::ok) return;
    switch (d.type) {
        case MsgType::dm_deliver: {
            DmDeliver m;
            if (body_as(d, m) == Status::ok) on_dm(m);
            break;
        }
        case MsgType::membership: {
            Membership m;
            if (body_as(d, m) == Status::ok) on_membership(m);
            break;
        }
        case MsgType::listen_end: {
            ListenEnd m;
            body_as(d, m);
            attached_ = false;  // an UNLISTEN now could detach whichever listener replaced this one
            if (m.reason == "silent") {
                // We were stalled (or cut off) for 3 heartbeats: the next PING finds us detached and
                // attaches again, filling what was missed, as after any detach we did not hear about.
                spdlog::info("detached by the broker for silence: attaching again at the next PING");
                break;
            }
            if (!done_) {
                out_.error("listen_end", "listener detached by the broker: " +
                                             (m.reason.empty() ? std::string("?") : m.reason));
                finish(kExitRefused);
            }
            break;
        }
        default:
            spdlog::debug("ignoring unexpected {} from the broker", msg_type_name(d.type));
    }
}

void Listener::on_event(const Event& e) {
    if (done_) return;
    auto it = rooms_.find(e.room);
    if (it == rooms_.end()) return;  // in flight when we unsubscribed
    if (it->second) {
        std::uint64_t last = *it->second;
        if (e.seq <= last) return;
        if (e.seq > last + 1) {
            // After an outage the catch-up fetches the gap (and this event) once the broker answers again.
            if (resync_needed_) return;
            if (fill(e.room, last, e.seq - 1, true) == FillResult::unreachable) {
                ping_due_ = mono_ms();  // find out at once whether the broker is gone
                return;
            }
            it = rooms_.find(e.room);
            if (done_ || it == rooms_.end()) return;
            if (it->second && e.seq <= *it->second) return;
        }
    }
    print_event(e);
}

void Listener::note_received(const Event& e) {
    if (!rooms_.contains(e.room)) return;  // in flight when we unsubscribed
    auto [it, first] = received_.try_emplace(e.room, e.seq);
    if (first) return;  // what came before the subscription was active is not the socket's loss
    if (e.seq > it->second + 1) {
        const std::uint64_t n = e.seq - it->second - 1;
        missed_ += n;
        unreported_ += n;
        out_.gap(e.room, it->second + 1, e.seq - 1, missed_);
    }
    it->second = e.seq;  // also when lower: the room's numbering started again
}

void Listener::print_event(const Event& e) {
    if (done_) return;
    out_.event(e);
    rooms_[e.room] = e.seq;
    counted();
}

void Listener::counted() {
    ++printed_;
    if (cfg_.count && printed_ >= *cfg_.count) finish(kExitOk);
}

Outcome Listener::history(const std::string& room, std::uint64_t since, std::uint64_t last,
                          HistoryReply& hr) {
    Outcome o = history_page(room, since, last, hr);
    // Later pages start after the last event so far; bounded by the room's kept history (a page holds at
    // least one event), and by a broker that stops making progress.
    for (int page = 1; page < 100000 && o.ok() && hr.more && !hr.events.empty() && !done_; ++page) {
        const std::uint64_t after = hr.events.back().seq;
        if (after <= since) break;
        since = after;
        HistoryReply next;
        o = history_page(room, since, 0, next);
        if (!o.ok()) break;
        hr.events.insert(hr.events.end(), std::make_move_iterator(next.events.begin()),
                         std::make_move_iterator(next.events.end()));
        hr.more = next.more;
    }
    return o;
}

Outcome Listener::history_page(const std::string& room, std::uint64_t since, std::uint64_t last,
                               HistoryReply& hr) {
    for (int attempt = 1;; ++attempt) {
        hr = HistoryReply{};
        Outcome o = client_.request(History{.room = room, .last = last, .since = since}, hr);
        const bool busy =
            o.transport == Transport::ok && (o.status == Status::no_worker || o.status == Status::timeout);
        if (!busy || attempt >= kHistoryAttempts || done_ || !pause(heartbeat_)) return o;
        spdlog::debug("HISTORY of {} answered {}; asking again", room, status_name(o.status));
    }
}

Listener::FillResult Listener::fill(const std::string& room, std::uint64_t since, std::uint64_t upto,
                                    bool note_missing) {
    HistoryReply hr;
    auto o = history(room, since, 0, hr);
    if (o.transport == Transport::timeout) {
        unreachable(no_answer_message(client_));
        return FillResult::unreachable;
    }
    if (o.status != Status::ok) {
        spdlog::warn("cannot fetch missed events of {} after #{}: {} ({})", room, since, o.error,
                     status_name(o.status));
    } else {
        for (auto ev : hr.events) {
            if (done_) return FillResult::ok;
            if (ev.room.empty()) ev.room = room;
            auto it = rooms_.find(room);
            if (it == rooms_.end()) return FillResult::ok;
            if (ev.seq > upto || (it->second && ev.seq <= *it->second)) continue;
            print_event(ev);
        }
    }
    auto it = rooms_.find(room);
    if (note_missing && it != rooms_.end() && upto != std::numeric_limits<std::uint64_t>::max() &&
        (!it->second || *it->second < upto)) {
        // Say so rather than pretend nothing happened: the room no longer keeps them (history is bounded), or
        // the broker could not tell.
        std::uint64_t from = it->second ? *it->second + 1 : since + 1;
        std::string why = o.status == Status::ok
                              ? "are no longer kept"
                              : "could not be fetched (" + std::string(status_name(o.status)) + ")";
        spdlog::warn("events #{}..#{} of {} {}", from, upto, room, why);
        out_.note("[" + room + "] events #" + std::to_string(from) + "-#" + std::to_string(upto) +
                  " were missed and " + why);
        it->second = upto;
    }
    return o.status == Status::ok ? FillResult::ok : FillResult::failed;
}

Listener::FillResult Listener::catch_up(const std::string& room) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return FillResult::ok;
    const bool fresh = unanchored_.contains(room);
    std::optional<std::uint64_t> base = it->second;
    if (!base && !fresh) {
        if (auto f = floor_.find(room); f != floor_.end()) base = f->second;
    }
    HistoryReply hr;
    // From the event before the last one printed: that one must come back, or the room's numbering started
    // again (a broker restart that no worker handed the room back to).
    const std::uint64_t since = base && *base > 0 ? *base - 1 : 0;
    auto o = history(room, since, 0, hr);
    if (o.transport == Transport::timeout) {
        unreachable(no_answer_message(client_));
        return FillResult::unreachable;
    }
    if (done_) return FillResult::ok;
    if (o.status == Status::no_such_room) {
        notice("[" + room + "] no longer exists after the broker restart; no longer following it");
        sub_.set(zmq::sockopt::unsubscribe, room_topic(room));
        rooms_.erase(room);
        received_.erase(room);
        floor_.erase(room);
        unanchored_.erase(room);
        out_.membership(Membership{.nick = cfg_.me.nick, .room = room, .joined = false, .seq = 0});
        return FillResult::ok;
    }
    if (o.status != Status::ok) {
        // Kept as it is: the next event of the room, or the next catch-up, tries again.
        notice("[" + room + "] could not fetch the events missed after #" + std::to_string(base.value_or(0)) +
               ": " + (o.error.empty() ? std::string(status_name(o.status)) : o.error));
        return FillResult::failed;
    }
    for (auto& ev : hr.events) {
        if (ev.room.empty()) ev.room = room;
    }
    std::uint64_t after = 0;  // print the events with a higher seq
    if (fresh) {
        // A room the nick joined while no listener was attached: show it from that join on.
        auto own = std::find_if(hr.events.rbegin(), hr.events.rend(), [&](const Event& e) {
            return e.kind == event_kind::join && same_nick(e.nick, cfg_.me.nick);
        });
        std::uint64_t join_seq = own != hr.events.rend() ? own->seq : 0;
        after = join_seq > 0 ? join_seq - 1 : (hr.events.empty() ? 0 : hr.events.back().seq);
        unanchored_.erase(room);
        out_.membership(Membership{.nick = cfg_.me.nick, .room = room, .joined = true, .seq = join_seq});
    } else if (!base) {
        // Nothing printed and no floor: only later events can be told apart from ones before set-up.
        after = hr.events.empty() ? 0 : hr.events.back().seq;
        spdlog::warn("cannot tell which events of {} were missed during the outage", room);
    } else if (*base > 0 && (hr.events.empty() || hr.events.back().seq < *base)) {
        notice("[" + room + "] starts again from #1: the restarted broker did not get its history back");
        HistoryReply all;
        o = history(room, 0, 0, all);
        if (o.transport == Transport::timeout) {
            unreachable(no_answer_message(client_));
            return FillResult::unreachable;
        }
        hr.events = o.ok() ? std::move(all.events) : std::vector<Event>{};
        for (auto& ev : hr.events) {
            if (ev.room.empty()) ev.room = room;
        }
        after = 0;
    } else {
        after = *base;
        if (!hr.events.empty() && hr.events.front().seq > after + 1) {
            out_.note("[" + room + "] events #" + std::to_string(after + 1) + "-#" +
                      std::to_string(hr.events.front().seq - 1) + " were missed and are no longer kept");
        }
    }
    rooms_[room] = after;
    for (const auto& ev : hr.events) {
        if (done_ || !rooms_.contains(room)) break;
        if (ev.seq > after) print_event(ev);
    }
    return FillResult::ok;
}

void Listener::on_membership(const Membership& m) {
    if (done_) return;
    if (m.joined) {
        out_.membership(m);
        if (rooms_.contains(m.room)) return;
        // Events since the join were published before the subscription was surely active: take them from
        // HISTORY, the SUB copies are then dropped as duplicates. A chat shows some from before the join too.
        const std::uint64_t before = m.seq > 0 ? m.seq - 1 - std::min(m.seq - 1, chat_ ? kChatRecent : 0) : 0;
        rooms_.emplace(m.room, m.seq > 0 ? std::optional<std::uint64_t>(before) : std::nullopt);
        sub_.set(zmq::sockopt::subscribe, room_topic(m.room));
        switch (sync()) {
            case SyncResult::ok:
                break;
            case SyncResult::stopped:
                return finish(kExitOk);
            case SyncResult::timeout:
                // With --reconnect the catch-up after the outage fetches the room from the join on.
                return unreachable("no subscription confirmation from " + events_endpoint_ + " within " +
                                   format_seconds(client_.timeout()));
        }
        if (m.seq > 0 && !resync_needed_) {
            if (fill(m.room, before, std::numeric_limits<std::uint64_t>::max(), false) ==
                FillResult::unreachable) {
                ping_due_ = mono_ms();
            }
        }
        return;
    }
    auto it = rooms_.find(m.room);
    if (it != rooms_.end()) {
        // Show the room up to and including our own leave, which may not have come over SUB yet. A room we
        // were the last to leave may be gone already, so nothing is reported missing here.
        drain_sub(1000);
        it = rooms_.find(m.room);
        if (it != rooms_.end() && it->second && m.seq > *it->second && !resync_needed_) {
            fill(m.room, *it->second, m.seq, false);
        }
        if (done_) return;
        it = rooms_.find(m.room);
        if (it == rooms_.end()) return out_.membership(m);
        sub_.set(zmq::sockopt::unsubscribe, room_topic(m.room));
        rooms_.erase(m.room);
        received_.erase(m.room);
    }
    out_.membership(m);
}

void Listener::on_dm(const DmDeliver& d) {
    if (done_) return;  // not printed, so not acknowledged: the broker keeps it for the next listener
    const bool fresh = d.id > last_dm_;
    if (fresh) {
        out_.dm(d);
        last_dm_ = d.id;
    }
    // Repeats are acknowledged again: the broker redelivers until it has an ack from this listener.
    client_.notify(DmAck{.nick = cfg_.me.nick, .upto = last_dm_});
    if (fresh) counted();
}

void Listener::ping() {
    milliseconds wait = client_.timeout();
    if (lost_since_) {
        // The last attempt ends with the --reconnect window.
        const std::int64_t left = *lost_since_ + cfg_.reconnect.count() - mono_ms();
        wait = std::clamp(milliseconds(left), milliseconds(1), wait);
    }
    PingReply pr;
    const std::uint64_t report = unreported_;
    auto o = client_.request(Ping{.missed = report}, pr, wait);
    if (o.transport == Transport::timeout) {
        return unreachable("no answer to PING from " + client_.endpoint() + " within " +
                           format_seconds(wait));
    }
    if (o.status != Status::ok) {
        spdlog::warn("PING answered with {}: {}", status_name(o.status), o.error);
        return;
    }
    // The broker counts a report only from its attached listener; otherwise it goes again with the next PING.
    if (pr.listening) unreported_ -= report;
    // A broker that does not send `boot` cannot say it restarted (nor, then, whether we are attached).
    const bool restarted = !pr.boot.empty() && (pr.boot != boot_ || !pr.listening);
    if (restarted) {
        spdlog::info("broker run {} (was {}), listening {}: attaching again", pr.boot, boot_, pr.listening);
    }
    if ((restarted || resync_needed_) && !resume(restarted)) return;
    if (!done_ || exit_code_ == kExitOk) recovered(restarted);  // --count may be reached by the catch-up
}

bool Listener::resume(bool restarted) {
    resync_needed_ = true;
    if (restarted) {
        // Notifications still waiting came from the broker's previous run: handle them before its DM
        // numbering is forgotten. Nothing from the new run can be among them before LISTEN.
        while (!done_) {
            auto f = client_.poll_notification(milliseconds(0));
            if (!f) break;
            handle_notification(*f);
        }
        if (done_) return true;
        HelloReply hello;
        auto o = client_.request(Hello{}, hello);
        if (o.transport == Transport::timeout) {
            unreachable(no_answer_message(client_));
            return false;
        }
        if (!o.ok()) {
            finish(report_failure(out_, client_, o));
            return true;
        }
        std::string events = resolve_advertised(hello.events, client_.endpoint());
        if (events != events_endpoint_) {
            // The SUB keeps its subscriptions and sends them to the new endpoint.
            try {
                sub_.disconnect(events_endpoint_);
            } catch (const zmq::error_t&) {
            }
            sub_.connect(events);
            events_endpoint_ = events;
        }
        if (hello.limits.heartbeat_ms > 0) heartbeat_ = milliseconds(hello.limits.heartbeat_ms);
        // A new run's inboxes start empty (DMs do not survive a restart) and number DMs from 1 again. Its
        // events socket is a new one: what a restart cost is not a slow subscriber's loss.
        if (hello.boot != boot_) {
            last_dm_ = 0;
            received_.clear();
        }

        ListenReply lr;
        o = client_.request(Listen{.nick = cfg_.me.nick, .token = cfg_.me.token}, lr);
        if (o.transport == Transport::timeout) {
            unreachable(no_answer_message(client_));
            return false;
        }
        if (!o.ok()) {
            finish(report_failure(out_, client_, o));
            return true;
        }
        attached_ = true;
        boot_ = hello.boot;
        // Rooms missing from the reply are kept: right after a restart the broker may not have them back yet,
        // and the catch-up below finds out whether they still exist.
        for (const auto& r : lr.rooms) {
            if (rooms_.contains(r)) continue;
            rooms_.emplace(r, std::nullopt);
            unanchored_.insert(r);
            sub_.set(zmq::sockopt::subscribe, room_topic(r));
        }
    }
    // The SUB reconnects by itself and sends its subscriptions again; the SYNC says they are active.
    switch (sync()) {
        case SyncResult::ok:
            break;
        case SyncResult::stopped:
            finish(kExitOk);
            return true;
        case SyncResult::timeout:
            unreachable("no subscription confirmation from " + events_endpoint_ + " within " +
                        format_seconds(client_.timeout()));
            return false;
    }
    std::vector<std::string> names;
    for (const auto& [room, last] : rooms_) names.push_back(room);
    for (const auto& room : names) {
        if (done_) return true;
        if (catch_up(room) == FillResult::unreachable) return false;
    }
    resync_needed_ = false;
    return true;
}

void Listener::read_input() {
    char buf[4096];
    ssize_t n = ::read(cfg_.input_fd, buf, sizeof buf);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return;
        spdlog::warn("reading input failed: {}", std::strerror(errno));
        n = 0;
    }
    if (n == 0) {
        if (!input_buf_.empty()) handle_line(std::exchange(input_buf_, {}));
        return finish(kExitOk);
    }
    input_buf_.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while (!done_ && (nl = input_buf_.find('\n')) != std::string::npos) {
        std::string line = input_buf_.substr(0, nl);
        input_buf_.erase(0, nl + 1);
        handle_line(std::move(line));
    }
}

void Listener::handle_line(std::string line) {
    if (!chat_->handle(line)) finish(kExitOk);
}

}  // namespace chatbus::cli
