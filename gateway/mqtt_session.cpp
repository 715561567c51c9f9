#include "gateway/mqtt_session.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/clock.hpp"
#include "common/names.hpp"
#include "gateway/hub.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "gateway/session_json.hpp"

namespace chatbus::gateway {

namespace {

using mqtt::ConnectReturnCode;
using mqtt::kSubackFailure;
constexpr std::size_t kMaxBuffered = 4 * 65536;  // bytes held while CONNECT waits for the broker
constexpr std::int64_t kConnectWaitMs = 10000;   // a connection must have sent CONNECT by then

template <class F>
auto guarded(const std::shared_ptr<bool>& alive, F f) {
    return [w = std::weak_ptr<bool>(alive), f = std::move(f)](auto&&... args) mutable {
        if (auto a = w.lock(); a && *a) f(std::forward<decltype(args)>(args)...);
    };
}

}  // namespace

MqttSession::MqttSession(Hub& hub, SessionWriter& out, std::uint64_t id, const SessionLimits& lim,
                         std::int64_t now_ms)
    : hub_(hub),
      out_(out),
      id_(id),
      lim_(lim),
      rx_ms_(now_ms),
      last_packet_ms_(now_ms),
      alive_(std::make_shared<bool>(true)) {}

MqttSession::~MqttSession() { *alive_ = false; }

void MqttSession::on_bytes(std::span<const std::uint8_t> data, std::int64_t now_ms) {
    if (state_ == State::closed) return;
    rx_ms_ = now_ms;
    in_.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (state_ == State::connecting && in_.size() > kMaxBuffered) return close(CloseReason::malformed);
    drain();
}

void MqttSession::drain() {
    // CONNECT may be accepted while this loop handles it; the loop goes on by itself then.
    if (draining_) return;
    draining_ = true;
    std::size_t at = 0;
    mqtt::DecodeError e = mqtt::DecodeError::none;
    while (state_ == State::awaiting_connect || state_ == State::connected) {
        mqtt::Packet p;
        std::size_t used = 0;
        auto view = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in_.data()) + at,
                                                  in_.size() - at);
        e = mqtt::decode_packet(view, mqtt::Role::server, lim_.decode, p, used);
        if (e != mqtt::DecodeError::none) break;
        at += used;
        last_packet_ms_ = rx_ms_;
        if (!lim_.packet_rate.unlimited() && !packets_.take(lim_.packet_rate, rx_ms_)) {
            draining_ = false;
            spdlog::debug("session {}: more than {} packets/s, closing", id_, lim_.packet_rate.per_second);
            return close(CloseReason::flood);
        }
        handle(p);
    }
    draining_ = false;
    if (state_ == State::closed) return;
    in_.erase(0, at);
    // Nothing left to decode: the memory goes back, so that an idle session does not keep the size of the
    // largest burst it ever received (its CONNECT, at least).
    if (in_.empty()) std::string().swap(in_);
    if (e != mqtt::DecodeError::none && e != mqtt::DecodeError::need_more) violation(e);
}

void MqttSession::violation(mqtt::DecodeError e) {
    spdlog::debug("session {}: {} from the client, closing", id_, mqtt::decode_error_name(e));
    // The two violations MQTT answers before closing (MQTT-3.1.2-2, MQTT-3.1.3-9).
    if (e == mqtt::DecodeError::bad_protocol_level && state_ == State::awaiting_connect)
        return refuse(ConnectReturnCode::unacceptable_protocol_version);
    if (e == mqtt::DecodeError::bad_client_id && state_ == State::awaiting_connect)
        return refuse(ConnectReturnCode::identifier_rejected);
    close(CloseReason::malformed);
}

void MqttSession::handle(mqtt::Packet& p) {
    // MQTT-3.1.0-1: the first packet is CONNECT; MQTT-3.1.0-2: a second CONNECT is a violation.
    bool is_connect = std::holds_alternative<mqtt::Connect>(p);
    if ((state_ == State::awaiting_connect) != is_connect) return close(CloseReason::malformed);
    std::visit(
        [&](auto& pkt) {
            using T = std::decay_t<decltype(pkt)>;
            if constexpr (std::is_same_v<T, mqtt::Connect>) on_connect(pkt);
            else if constexpr (std::is_same_v<T, mqtt::Publish>) on_publish(pkt);
            else if constexpr (std::is_same_v<T, mqtt::Subscribe>) on_subscribe(pkt);
            else if constexpr (std::is_same_v<T, mqtt::Unsubscribe>) on_unsubscribe(pkt);
            else if constexpr (std::is_same_v<T, mqtt::Puback>) on_puback(pkt.packet_id);
            else if constexpr (std::is_same_v<T, mqtt::Pingreq>) {
                std::string out;
                mqtt::encode(out, mqtt::Pingresp{});
                send(out);
            } else if constexpr (std::is_same_v<T, mqtt::Disconnect>) {
                will_.reset();  // MQTT-3.14.4-3: a clean DISCONNECT discards the will
                close(CloseReason::client);
            } else {
                // PUBREC/PUBREL/PUBCOMP: QoS 2 exchanges this gateway never starts or accepts.
                close(CloseReason::malformed);
            }
        },
        p);
}

void MqttSession::on_connect(mqtt::Connect& c) {
    keep_alive_s_ = c.keep_alive;
    clean_ = c.clean_session;
    client_id_ = std::move(c.client_id);
    will_ = std::move(c.will);
    if (client_id_.empty() && !clean_) return refuse(ConnectReturnCode::identifier_rejected);
    if (client_id_.empty()) client_id_ = "chatbus-" + std::to_string(id_);
    state_ = State::connecting;
    if (!c.username) return hub_.connect_anonymous(*this);
    if (!valid_nick(*c.username) || !c.password) return refuse(ConnectReturnCode::bad_username_or_password);
    token_ = *c.password;
    hub_.connect(*this, *c.username, token_);
}

void MqttSession::accept(std::string display_nick, bool session_present) {
    if (state_ != State::connecting) return;
    nick_ = std::move(display_nick);
    state_ = State::connected;
    std::string out;
    mqtt::encode(out, mqtt::Connack{session_present, ConnectReturnCode::accepted});
    send(out);
    drain();
}

void MqttSession::refuse(mqtt::ConnectReturnCode code) {
    if (state_ == State::closed) return;
    std::string out;
    mqtt::encode(out, mqtt::Connack{false, code});
    out_.write(out);
    will_.reset();
    state_ = State::closed;
    out_.close(true);
}

void MqttSession::on_publish(mqtt::Publish& p) {
    // QoS 2 cannot be refused in MQTT 3.1.1 short of closing (docs/mqtt.md, "Connection").
    if (p.qos > 1) return close(CloseReason::malformed);
    if (pending_ >= lim_.max_pending) return close(CloseReason::slow_consumer);
    std::size_t ticket = begin_ack(p.qos, p.packet_id);
    ++pending_;
    auto done = guarded(alive_, [this, ticket, topic = p.topic, id = p.packet_id](Status s, std::string detail) {
        --pending_;
        if (s != Status::ok) error(topic, id, s, detail);
        finish_ack(ticket);
    });
    hub_.publish(*this, p.topic, std::move(p.payload), std::move(done));
}

void MqttSession::on_subscribe(mqtt::Subscribe& s) {
    if (pending_ >= lim_.max_pending) return close(CloseReason::slow_consumer);
    struct Collect {
        std::uint16_t packet_id;
        std::vector<std::uint8_t> codes;
        std::size_t left;
        bool dms = false;
    };
    auto col = std::make_shared<Collect>(Collect{s.packet_id, std::vector<std::uint8_t>(s.subscriptions.size()),
                                                 s.subscriptions.size()});
    ++pending_;
    auto finish_one = [this, col](std::size_t i, std::uint8_t code) {
        col->codes[i] = code;
        if (--col->left > 0) return;
        --pending_;
        std::string out;
        mqtt::encode(out, mqtt::Suback{col->packet_id, col->codes});
        send(out);
        if (col->dms) hub_.dms_wanted(*this);
    };
    for (std::size_t i = 0; i < s.subscriptions.size(); ++i) {
        std::string filter = s.subscriptions[i].filter;
        std::uint8_t qos = std::min<std::uint8_t>(s.subscriptions[i].qos, 1);
        FilterTarget t = filter_target(filter, nick_);
        if (t.kind == FilterTarget::Kind::refused || (!subs_.has(filter) && subs_.size() >= lim_.max_filters)) {
            error(filter, s.packet_id, t.kind == FilterTarget::Kind::refused ? t.refusal : Status::too_many_rooms);
            finish_one(i, kSubackFailure);
            continue;
        }
        if (t.kind != FilterTarget::Kind::room) {
            subs_.add(filter, t, qos);
            if (subs_.dm_qos()) col->dms = true;
            finish_one(i, qos);
            continue;
        }
        hub_.follow(*this, t.room, guarded(alive_, [this, finish_one, i, filter, t, qos, id = s.packet_id](Status st) {
            if (st == Status::ok) {
                subs_.add(filter, t, qos);
                finish_one(i, qos);
            } else {
                error(filter, id, st);
                finish_one(i, kSubackFailure);
            }
        }));
    }
}

void MqttSession::on_unsubscribe(const mqtt::Unsubscribe& u) {
    for (const auto& f : u.filters) subs_.remove(f);
    std::string out;
    mqtt::encode(out, mqtt::Unsuback{u.packet_id});
    send(out);
}

void MqttSession::on_puback(std::uint16_t id) {
    auto it = inflight_.find(id);
    if (it == inflight_.end()) return;  // a repeat or an unknown id: MQTT lets the receiver ignore it
    auto taken = std::move(it->second);
    inflight_.erase(it);
    if (taken) taken();
}

std::size_t MqttSession::begin_ack(std::uint8_t qos, std::uint16_t packet_id) {
    std::size_t t = next_ticket_++;
    if (qos == 1) acks_.push_back(Ack{t, packet_id, false});
    return t;
}

void MqttSession::finish_ack(std::size_t ticket) {
    for (auto& a : acks_)
        if (a.ticket == ticket) a.done = true;
    std::string out;
    while (!acks_.empty() && acks_.front().done) {
        mqtt::encode(out, mqtt::Puback{acks_.front().packet_id});
        acks_.pop_front();
    }
    if (!out.empty()) send(out);
}

void MqttSession::deliver(std::string_view topic, std::string_view payload, std::uint8_t qos,
                          std::function<void()> on_taken) {
    if (state_ != State::connected) return;
    mqtt::Publish p{false, qos, false, std::string(topic), 0, std::string(payload)};
    if (qos == 1) {
        p.packet_id = next_packet_id();
        if (p.packet_id == 0) return close(CloseReason::slow_consumer);
        inflight_.emplace(p.packet_id, std::move(on_taken));
    }
    std::string out;
    mqtt::encode(out, p);
    send(out);
    if (qos == 0 && on_taken && state_ == State::connected) on_taken();
}

bool MqttSession::take_seq(const std::string& room, std::uint64_t seq) {
    auto [it, fresh] = room_seqs_.try_emplace(room, seq);
    if (fresh) return true;
    if (seq <= it->second) return false;
    it->second = seq;
    return true;
}

void MqttSession::deliver_encoded(std::string_view packet) {
    if (state_ == State::connected) send(packet);
}

void MqttSession::error(std::string_view topic, std::uint16_t packet_id, Status s, std::string_view detail) {
    if (state_ != State::connected) return;
    deliver(kErrorTopic, error_json(topic, packet_id, s, detail), 0);
}

std::uint16_t MqttSession::next_packet_id() {
    if (inflight_.size() >= lim_.queue) return 0;
    do {
        last_packet_id_ = static_cast<std::uint16_t>(last_packet_id_ + 1);
    } while (last_packet_id_ == 0 || inflight_.contains(last_packet_id_));
    return last_packet_id_;
}

void MqttSession::send(std::string_view bytes) {
    if (state_ == State::closed) return;
    if (out_.backlog() + inflight_.size() >= lim_.queue) return close(CloseReason::slow_consumer);
    out_.write(bytes);
}

bool MqttSession::keepalive_expired(std::int64_t now_ms) const {
    if (state_ == State::closed) return false;
    if (state_ == State::awaiting_connect) return now_ms - last_packet_ms_ > kConnectWaitMs;
    return keep_alive_s_ > 0 && now_ms - last_packet_ms_ > keep_alive_s_ * 1500LL;
}

void MqttSession::publish_will() {
    if (!will_ || nick_.empty()) return;
    mqtt::Will w = std::move(*will_);
    will_.reset();
    hub_.publish(*this, w.topic, std::move(w.payload), [](Status, std::string) {});
}

void MqttSession::on_connection_lost() {
    if (state_ == State::closed) return;
    if (state_ == State::connected) publish_will();
    state_ = State::closed;
    hub_.session_ended(*this, CloseReason::client);
}

void MqttSession::close(CloseReason why) {
    if (state_ == State::closed) return;
    bool was_connected = state_ == State::connected;
    if (why != CloseReason::client && why != CloseReason::taken_over && was_connected) publish_will();
    state_ = State::closed;
    hub_.session_ended(*this, why);
    // A slow consumer is not waited for; everything else gets what was queued for it (a last reply, an error).
    out_.close(why != CloseReason::slow_consumer);
}

}  // namespace chatbus::gateway
