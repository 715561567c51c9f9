#include "worker/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <limits>

#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "common/codec.hpp"
#include "worker/event_frame.hpp"
#include "worker/request_handler.hpp"
#include "common/socket_util.hpp"

namespace chatbus {
namespace {

constexpr long kMaxPollMs = 100;  // stop() is noticed within this
// Under a flood, draining "until empty" could keep the loop away from timers and the stop flag for good.
constexpr int kMaxDrain = 10000;
constexpr int kGoodbyeLingerMs = 500;  // long enough for the last frames to leave, short enough to exit fast
constexpr std::uint64_t kDefaultLiveness = 3;
// With ZMQ_IMMEDIATE a READY fails until the TCP connection is up; retry soon rather than a heartbeat later.
constexpr std::int64_t kReadyRetryMs = 50;
// A signal interrupting a waiting send retries it; a storm of them gives up (and reconnects) instead.
constexpr int kMaxSendInterrupts = 16;

std::string hostname() {
    std::array<char, 256> buf{};
    if (gethostname(buf.data(), buf.size() - 1) != 0) {
        return "localhost";
    }
    return buf.data();
}

bool is_type(std::string_view frame, MsgType type) {
    return frame.size() >= kHeaderSize &&
           static_cast<std::uint8_t>(frame[3]) == static_cast<std::uint8_t>(type);
}

}  // namespace

Worker::Worker(WorkerConfig cfg, zmq::context_t* shared)
    : cfg_(std::move(cfg)),
      host_(hostname()),
      own_ctx_(shared ? nullptr : std::make_unique<zmq::context_t>(1)),
      ctx_(shared ? shared : own_ctx_.get()),
      table_(RoomLimits{.history = cfg_.history, .max_batch = cfg_.max_batch}) {
    id_ = cfg_.id.empty() ? host_ + "-" + std::to_string(getpid()) : cfg_.id;
    heartbeat_ms_ = std::max<std::uint64_t>(cfg_.ready_interval_ms, 1);
    curve_ = load_client_keys(cfg_.curve_key, cfg_.broker_key);
}

void Worker::run() {
    spdlog::info("worker {}: connecting to broker {}", id_, cfg_.broker);
    // Outside the loop's catch: a malformed broker endpoint is a configuration error no retry will fix.
    connect();
    while (!done_) {
        // cppzmq reports errors as exceptions; they are caught here, once, so one bad message or a transient
        // socket error never ends the loop.
        try {
            check_stop(mono_ms());
            if (done_) {
                break;
            }
            std::array<zmq_pollitem_t, 1> items{{{dealer_->handle(), 0, ZMQ_POLLIN, 0}}};
            try {
                zmq::poll(items.data(), items.size(), std::chrono::milliseconds(poll_timeout_ms(mono_ms())));
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) {
                    throw;
                }
                continue;  // a signal: the stop requests are checked next round
            }
            if (items[0].revents & ZMQ_POLLIN) {
                drain_dealer();
            }
            if (!done_) {
                on_timers(mono_ms());
            }
        } catch (const std::exception& e) {
            spdlog::error("worker {}: {}", id_, e.what());
        }
    }
    close();
}

void Worker::connect() {
    dealer_.emplace(*ctx_, zmq::socket_type::dealer);
    // Pending frames to a lost broker are worthless after a reconnect: READY starts everything over.
    dealer_->set(zmq::sockopt::linger, 0);
    // Queue only on a live connection, so READYs retried while the broker is down do not pile up and reach
    // it all at once when it comes back.
    dealer_->set(zmq::sockopt::immediate, 1);
    heartbeat_ms_ = std::max<std::uint64_t>(cfg_.ready_interval_ms, 1);
    // Bounds the sends that wait (replies and W_STATE): a broker that reads nothing for that long is dead.
    dealer_->set(zmq::sockopt::sndtimeo, static_cast<int>(heartbeat_ms_ * kDefaultLiveness));
    make_curve_client(*dealer_, curve_);
    dealer_->connect(cfg_.broker);
    phase_ = Phase::awaiting_welcome;
    goodbye_sent_ = false;
    last_heard_ = mono_ms();
    send_ready();
}

void Worker::send_ready() {
    ready_sent_ = mono_ms();
    ready_ok_ = send_to_broker({encode(WReady{id_, host_, static_cast<std::uint64_t>(getpid())})});
    if (ready_ok_) {
        spdlog::debug("worker {}: W_READY sent", id_);
        curve_failing_since_ = 0;
    } else if (curve_.enabled()) {
        // A refused CURVE handshake looks like a broker that is not there: name the likelier causes, at most
        // once a minute.
        if (!curve_failing_since_) curve_failing_since_ = ready_sent_;
        if (ready_sent_ - curve_failing_since_ >= 5000 && ready_sent_ - curve_warned_ >= 60000) {
            curve_warned_ = ready_sent_;
            spdlog::warn("worker {}: no CURVE connection to {} for {} s: is our public key in the broker's "
                         "worker-keys, and --broker-key its public key?",
                         id_, cfg_.broker, (ready_sent_ - curve_failing_since_) / 1000);
        }
    }
}

void Worker::reconnect(std::string_view why) {
    spdlog::warn("worker {}: {}; reconnecting to {}", id_, why, cfg_.broker);
    connect();
}

std::int64_t Worker::drain_timeout_ms() const {
    return static_cast<std::int64_t>(
        std::max<std::uint64_t>(cfg_.min_drain_ms, 2 * liveness_ * heartbeat_ms_));
}

void Worker::check_stop(std::int64_t now) {
    unsigned requests = stop_requests_.load(std::memory_order_relaxed);
    if (requests == 0 || (draining_ && requests == 1)) {
        return;
    }
    if (requests >= 2) {
        spdlog::info("worker {}: stop requested again; exiting {}", id_,
                     draining_ ? "without waiting for the broker" : "at once");
        done_ = true;
        return;
    }
    if (!boot_) {
        spdlog::info("worker {}: stopping; no broker was ever reached", id_);
        done_ = true;
        return;
    }
    if (phase_ != Phase::live && table_.room_count() == 0) {
        spdlog::info("worker {}: stopping; not connected and no rooms to hand back", id_);
        done_ = true;
        return;
    }
    draining_ = true;
    drain_deadline_ = now + drain_timeout_ms();
    spdlog::info("worker {}: draining {} rooms (at most {} ms)", id_, table_.room_count(),
                 drain_timeout_ms());
    if (phase_ == Phase::live) {
        send_goodbye();
    }
}

void Worker::send_goodbye() {
    goodbye_sent_ = send_to_broker({encode(WDisconnect{"draining"})});
    if (goodbye_sent_) {
        spdlog::debug("worker {}: W_DISCONNECT draining sent", id_);
    }
}

void Worker::close() {
    if (!dealer_) {
        return;
    }
    try {
        if (!draining_) {
            // Leaving without a drain (never welcomed, or a second stop before the first was seen): at least
            // tell the broker at once.
            send_to_broker({encode(WDisconnect{"stopping"})});
        }
        dealer_->set(zmq::sockopt::linger, kGoodbyeLingerMs);
    } catch (const std::exception& e) {
        spdlog::debug("worker {}: goodbye not sent: {}", id_, e.what());
    }
    dealer_.reset();
    spdlog::info("worker {}: stopped after {} requests, {} events; {} rooms held", id_, served_, events_sent_,
                 table_.room_count());
}

void Worker::drain_dealer() {
    for (int i = 0; i < kMaxDrain && !done_ && recv_multipart(*dealer_, parts_); ++i) {
        if (!on_dealer_message(parts_)) {
            return;
        }
    }
}

bool Worker::on_dealer_message(std::vector<zmq::message_t>& parts) {
    // Anything from the broker, even garbage, shows it is alive.
    last_heard_ = mono_ms();
    std::string_view first = view(parts[0]);
    if (parts.size() == 1 && is_type(first, MsgType::w_state)) {
        // Decoded with its own limits: a whole room may not fit the network ones.
        on_state(first);
        return true;
    }
    Decoded d;
    if (Status s = decode(first, d); s != Status::ok) {
        spdlog::debug("worker {}: dropped undecodable frame from broker ({})", id_, status_name(s));
        return true;
    }
    if (parts.size() == 2 && d.type == MsgType::w_request) {
        WRequest req;
        if (body_as(d, req) != Status::ok) {
            spdlog::debug("worker {}: dropped W_REQUEST with unreadable bid", id_);
            return true;
        }
        return on_request(req.bid, view(parts[1]));
    }
    if (parts.size() != 1) {
        spdlog::debug("worker {}: dropped {}-frame {}", id_, parts.size(), msg_type_name(d.type));
        return true;
    }
    switch (d.type) {
        case MsgType::w_welcome: {
            WWelcome w;
            if (body_as(d, w) != Status::ok) {
                spdlog::warn("worker {}: unreadable W_WELCOME ignored", id_);
                return true;
            }
            return on_welcome(w);
        }
        case MsgType::w_release: {
            WRelease r;
            if (body_as(d, r) != Status::ok) {
                spdlog::error("worker {}: unreadable W_RELEASE ignored", id_);
                return true;
            }
            on_release(r);
            return true;
        }
        case MsgType::w_heartbeat:
            return true;
        case MsgType::w_disconnect:
            if (draining_) {
                spdlog::info("worker {}: the broker answered W_DISCONNECT; drained", id_);
                done_ = true;
                return false;
            }
            reconnect("broker sent W_DISCONNECT (" + peek_string(d, "reason") + ")");
            return false;
        default:
            spdlog::debug("worker {}: dropped unexpected {}", id_, msg_type_name(d.type));
            return true;
    }
}

bool Worker::on_welcome(const WWelcome& w) {
    if (phase_ != Phase::awaiting_welcome) {
        // A late answer to a retried READY: the first WELCOME already set everything up.
        spdlog::debug("worker {}: extra W_WELCOME ignored", id_);
        return true;
    }
    heartbeat_ms_ = w.heartbeat_ms ? w.heartbeat_ms : std::max<std::uint64_t>(cfg_.ready_interval_ms, 1);
    liveness_ = w.liveness ? w.liveness : kDefaultLiveness;
    dealer_->set(zmq::sockopt::sndtimeo, static_cast<int>(std::min<std::uint64_t>(
                                             heartbeat_ms_ * liveness_, std::numeric_limits<int>::max())));
    if (w.max_text) {
        table_.set_max_text(w.max_text);
    }
    if (w.max_batch) {
        table_.set_max_batch(w.max_batch);
    }
    if (w.history) {
        table_.set_history(w.history);
    }
    if (boot_ && *boot_ == w.boot) {
        // The same broker run declared this worker dead (or asked it to reconnect): whatever it did with
        // the rooms since, its copy is authoritative and it hands them out again with W_STATE.
        if (table_.room_count() > 0) {
            spdlog::info("worker {}: welcomed again by broker run {}; dropping {} rooms", id_, w.boot,
                         table_.room_count());
        }
        table_.clear();
    } else if (boot_) {
        // The broker restarted without room state: hand every room back before going live. boot_ is only
        // updated once all have left, so a failed push is redone after the reconnect.
        spdlog::info("worker {}: broker restarted (boot {} -> {}); handing back {} rooms", id_, *boot_,
                     w.boot, table_.room_count());
        if (!push_states()) {
            return false;
        }
    }
    boot_ = w.boot;
    // Live even if this heartbeat cannot leave: the timer retries it.
    phase_ = Phase::live;
    send_to_broker({encode(WHeartbeat{})});
    spdlog::info("worker {}: live (broker run {}, heartbeat {} ms, liveness {}, max_text {}, history {})", id_,
                 w.boot, heartbeat_ms_, liveness_, table_.limits().max_text, table_.limits().history);
    if (draining_) {
        send_goodbye();
    }
    return true;
}

bool Worker::push_states() {
    if (out_frames_.empty()) {
        out_frames_.resize(1);
    }
    for (const std::string& name : table_.room_names()) {
        std::optional<WState> state = table_.export_state(name);
        out_frames_[0].clear();
        encode_into(out_frames_[0], *state);
        if (!send_waiting(out_frames_, 1)) {
            reconnect("W_STATE for room " + name + " could not be sent");
            return false;
        }
    }
    return true;
}

void Worker::on_state(std::string_view frame) {
    Decoded d;
    WState state;
    // Sized limits: a room's members and history may exceed the network limit (the broker is trusted).
    Status s = decode_sized(frame, d);
    if (s == Status::ok) {
        s = body_as(d, state);
    }
    if (s != Status::ok) {
        // Keeping an older copy of the room would be as wrong as having none; drop it if it can be named.
        std::string room = peek_string(d, "room");  // empty unless the body unpacked as a map
        spdlog::error("worker {}: unreadable W_STATE ({}) for room '{}' dropped", id_, status_name(s), room);
        if (!room.empty()) {
            table_.release(room);
        }
        return;
    }
    if (!table_.import(state)) {
        spdlog::error("worker {}: W_STATE for invalid room name '{}' ignored", id_, state.room);
        return;
    }
    spdlog::debug("worker {}: took room {} at seq {} ({} members, {} events)", id_, state.room, state.seq,
                  state.members.size(), state.history.size());
}

void Worker::on_release(const WRelease& r) {
    bool held = table_.release(r.room);
    spdlog::debug("worker {}: released room {}{}", id_, r.room, held ? "" : " (not held)");
}

bool Worker::on_request(std::uint64_t bid, std::string_view frame) {
    events_.clear();
    std::optional<std::string> reply = handle_request(table_, frame, events_);
    if (!reply) {
        spdlog::debug("worker {}: request {} is not a request; dropped", id_, bid);
        return true;
    }
    std::size_t count = 2 + events_.size();
    if (out_frames_.size() < count) {
        out_frames_.resize(count);
    }
    out_frames_[0].clear();
    encode_into(out_frames_[0], WReply{bid});
    out_frames_[1] = std::move(*reply);
    for (std::size_t i = 0; i < events_.size(); ++i) {
        encode_event_frame(out_frames_[2 + i], events_[i]);
    }
    if (!send_waiting(out_frames_, count)) {
        // Its events are now only here: starting over makes the broker's copy the truth again (the same
        // broker run drops every room at the next WELCOME).
        reconnect("reply to request " + std::to_string(bid) + " could not be sent");
        return false;
    }
    ++served_;
    events_sent_ += events_.size();
    return true;
}

void Worker::on_timers(std::int64_t now) {
    if (draining_ && now >= drain_deadline_) {
        spdlog::warn("worker {}: no W_DISCONNECT from the broker within {} ms of draining; exiting", id_,
                     drain_timeout_ms());
        done_ = true;
        return;
    }
    auto hb = static_cast<std::int64_t>(heartbeat_ms_);
    if (phase_ == Phase::awaiting_welcome) {
        if (draining_ && table_.room_count() == 0) {
            spdlog::info("worker {}: draining, disconnected and no rooms left to hand back; exiting", id_);
            done_ = true;
            return;
        }
        if (now - ready_sent_ >= ready_interval(hb)) {
            send_ready();
        }
        return;
    }
    if (now - last_heard_ > hb * static_cast<std::int64_t>(liveness_)) {
        reconnect("nothing heard from the broker for " + std::to_string(now - last_heard_) + " ms");
        return;
    }
    if (draining_ && !goodbye_sent_) {
        send_goodbye();
    }
    if (now - last_sent_ >= hb) {
        send_to_broker({encode(WHeartbeat{})});
    }
}

std::int64_t Worker::ready_interval(std::int64_t hb) const {
    return ready_ok_ ? hb : std::min(hb, kReadyRetryMs);
}

long Worker::poll_timeout_ms(std::int64_t now) const {
    auto hb = static_cast<std::int64_t>(heartbeat_ms_);
    std::int64_t next;
    if (phase_ == Phase::awaiting_welcome) {
        next = ready_sent_ + ready_interval(hb);
    } else {
        next = std::min(last_heard_ + hb * static_cast<std::int64_t>(liveness_) + 1, last_sent_ + hb);
    }
    if (draining_) {
        next = std::min(next, drain_deadline_);
    }
    return static_cast<long>(std::clamp<std::int64_t>(next - now, 0, kMaxPollMs));
}

bool Worker::send_to_broker(std::initializer_list<std::string_view> frames) {
    if (!send_frames(*dealer_, frames)) {
        return false;
    }
    last_sent_ = mono_ms();
    return true;
}

// Unlike send_to_broker(), waits up to the socket's send timeout for room in the queue: a reply or a W_STATE
// must not be dropped just because the queue is momentarily full. A multipart message is queued whole once
// its first frame is, so only that one can wait or fail; a failure is followed by a reconnect, which also
// discards anything partly queued.
bool Worker::send_waiting(const std::vector<std::string>& frames, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        auto flags = i + 1 < count ? zmq::send_flags::sndmore : zmq::send_flags::none;
        for (int interrupts = 0;; ++interrupts) {
            try {
                if (!dealer_->send(zmq::const_buffer(frames[i].data(), frames[i].size()), flags)) {
                    return false;  // timed out
                }
                break;
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR || interrupts >= kMaxSendInterrupts) {
                    return false;
                }
            }
        }
    }
    last_sent_ = mono_ms();
    return true;
}

}  // namespace chatbus
