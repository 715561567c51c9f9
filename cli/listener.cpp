#include "cli/listener.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "cli/chat.hpp"
#include "common/clock.hpp"
#include "common/codec.hpp"
#include "common/endpoint.hpp"
#include "cli/exit_codes.hpp"
#include "cli/paged_request.hpp"
#include "cli/report.hpp"

namespace chatbus::cli {
namespace {

using std::chrono::milliseconds;

// Attempts at a HISTORY answered no_worker/timeout, a heartbeat apart: a restarted broker makes requests for
// rooms it has no copy of wait for liveness (3) heartbeats while workers hand them back.
constexpr int kHistoryAttempts = 6;

}  // namespace

Listener::Listener(Client& client, Output& out, ListenConfig cfg)
    : client_(client), out_(out), cfg_(std::move(cfg)), events_(client) {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pipe2 failed");
    if (cfg_.chat_room) {
        chat_ = std::make_unique<ChatSession>(client_, out_, cfg_.me, cfg_.input_fd);
        if (cfg_.input_fd >= 0) input_.emplace(cfg_.input_fd);
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
    const std::string events = resolve_advertised(hello.events, client_.endpoint());
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

    events_.connect(events);
    for (const auto& r : lr.rooms) {
        rooms_.emplace(r, FollowedRoom{});
        events_.follow(r);
    }
    switch (sync()) {
        case EventSocket::SyncResult::ok:
            break;
        case EventSocket::SyncResult::stopped:
            finish(kExitOk);
            return kExitOk;
        case EventSocket::SyncResult::timeout:
            fatal_unreachable("no subscription confirmation from " + events_.endpoint() + " within " +
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
            auto it = rooms_.find(r);
            if (o.ok() && it != rooms_.end()) it->second.floor = hr.events.empty() ? 0 : hr.events.back().seq;
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
    std::vector<Event> events;
    auto o = fetch_history(History{.room = room, .last = kChatRecent}, events);
    if (!o.ok()) {
        notice("[" + room + "] its last events could not be fetched (" + std::string(status_name(o.status)) +
               ")");
        return;
    }
    for (const auto& ev : events) {
        auto it = rooms_.find(room);
        if (done_ || it == rooms_.end()) return;
        if (!it->second.printed || ev.seq > *it->second.printed) print_event(ev);
    }
}

EventSocket::SyncResult Listener::sync() {
    return events_.sync(client_.timeout(), wake_[0], stop_requested_, [this](Event e) {
        note_received(e);
        pending_.push_back(std::move(e));
    });
}

void Listener::loop() {
    const std::int64_t end =
        cfg_.duration ? mono_ms() + cfg_.duration->count() : std::numeric_limits<std::int64_t>::max();
    ping_due_ = mono_ms() + heartbeat_.count();
    const bool chat_input = input_.has_value();

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
            {events_.socket().handle(), 0, ZMQ_POLLIN, 0},
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
    if (done_) return;
    events_.drain(max_frames, [this](const Event& e) {
        note_received(e);
        on_event(e);
        return !done_;
    });
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
    // After an outage the catch-up fetches a gap (and this event) once the broker answers again.
    if (gaps_.deliver(it->second, e, resync_needed_) == FillResult::unreachable) {
        unreachable(no_answer_message(client_));
        ping_due_ = mono_ms();  // find out at once whether the broker is gone
    }
}

void Listener::note_received(const Event& e) {
    auto it = rooms_.find(e.room);
    if (it == rooms_.end()) return;  // in flight when we unsubscribed
    if (auto lost = it->second.receive(e.seq)) {
        missed_ += lost->size();
        unreported_ += lost->size();
        out_.gap(e.room, lost->from, lost->to, missed_);
    }
}

void Listener::print_event(const Event& e) {
    if (done_) return;
    out_.event(e);
    rooms_[e.room].printed = e.seq;
    counted();
}

void Listener::counted() {
    ++printed_;
    if (cfg_.count && printed_ >= *cfg_.count) finish(kExitOk);
}

Outcome Listener::fetch_history(const History& first, std::vector<Event>& events) {
    auto ask = [this](const History& req, HistoryReply& hr) { return history_page(req, hr); };
    return follow_pages(first, ask, [&](HistoryReply& hr) {
        for (auto& ev : hr.events) {
            if (ev.room.empty()) ev.room = first.room;
            events.push_back(std::move(ev));
        }
        return !done_;
    });
}

Outcome Listener::history_page(const History& req, HistoryReply& hr) {
    for (int attempt = 1;; ++attempt) {
        hr = HistoryReply{};
        Outcome o = client_.request(req, hr);
        const bool busy =
            o.transport == Transport::ok && (o.status == Status::no_worker || o.status == Status::timeout);
        if (!busy || attempt >= kHistoryAttempts || done_ || !pause(heartbeat_)) return o;
        spdlog::debug("HISTORY of {} answered {}; asking again", req.room, status_name(o.status));
    }
}

Outcome Listener::history(const std::string& room, std::uint64_t since, std::vector<Event>& events) {
    return fetch_history(History{.room = room, .since = since}, events);
}

FillResult Listener::fill(const std::string& room, FollowedRoom& state, std::uint64_t since,
                          std::uint64_t upto) {
    const FillResult r = gaps_.fill(room, state, since, upto, false);
    if (r == FillResult::unreachable) unreachable(no_answer_message(client_));
    return r;
}

FillResult Listener::catch_up(const std::string& room) {
    auto it = rooms_.find(room);
    if (it == rooms_.end()) return FillResult::ok;
    const FillResult r = gaps_.catch_up(room, it->second);
    if (r == FillResult::unreachable) unreachable(no_answer_message(client_));
    if (r != FillResult::gone) return r;
    notice("[" + room + "] no longer exists after the broker restart; no longer following it");
    events_.unfollow(room);
    rooms_.erase(it);
    out_.membership(Membership{.nick = cfg_.me.nick, .room = room, .joined = false, .seq = 0});
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
        FollowedRoom state;
        if (m.seq > 0) state.printed = before;
        auto joined = rooms_.emplace(m.room, state).first;
        events_.follow(m.room);
        switch (sync()) {
            case EventSocket::SyncResult::ok:
                break;
            case EventSocket::SyncResult::stopped:
                return finish(kExitOk);
            case EventSocket::SyncResult::timeout:
                // With --reconnect the catch-up after the outage fetches the room from the join on.
                return unreachable("no subscription confirmation from " + events_.endpoint() + " within " +
                                   format_seconds(client_.timeout()));
        }
        if (m.seq > 0 && !resync_needed_) {
            if (fill(m.room, joined->second, before, std::numeric_limits<std::uint64_t>::max()) ==
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
        if (it != rooms_.end() && it->second.printed && m.seq > *it->second.printed && !resync_needed_) {
            fill(m.room, it->second, *it->second.printed, m.seq);
        }
        if (done_) return;
        it = rooms_.find(m.room);
        if (it == rooms_.end()) return out_.membership(m);
        events_.unfollow(m.room);
        rooms_.erase(it);
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
        if (events != events_.endpoint()) events_.connect(events);
        if (hello.limits.heartbeat_ms > 0) heartbeat_ = milliseconds(hello.limits.heartbeat_ms);
        // A new run's inboxes start empty (DMs do not survive a restart) and number DMs from 1 again. Its
        // events socket is a new one: what a restart cost is not a slow subscriber's loss.
        if (hello.boot != boot_) {
            last_dm_ = 0;
            for (auto& [name, room] : rooms_) room.received.reset();
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
            if (!rooms_.emplace(r, FollowedRoom{.unanchored = true}).second) continue;
            events_.follow(r);
        }
    }
    // The SUB reconnects by itself and sends its subscriptions again; the SYNC says they are active.
    switch (sync()) {
        case EventSocket::SyncResult::ok:
            break;
        case EventSocket::SyncResult::stopped:
            finish(kExitOk);
            return true;
        case EventSocket::SyncResult::timeout:
            unreachable("no subscription confirmation from " + events_.endpoint() + " within " +
                        format_seconds(client_.timeout()));
            return false;
    }
    std::vector<std::string> names;
    for (const auto& [name, room] : rooms_) names.push_back(name);
    for (const auto& room : names) {
        if (done_) return true;
        if (catch_up(room) == FillResult::unreachable) return false;
    }
    resync_needed_ = false;
    return true;
}

void Listener::read_input() {
    if (input_->read([this](std::string line) { return chat_->handle(line); }) == LineReader::Read::ended) {
        finish(kExitOk);
    }
}

}  // namespace chatbus::cli
