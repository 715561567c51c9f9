#pragma once
// One MQTT connection's protocol state (MQTT 3.1.1 server side): it decodes what the client sends, keeps the
// session's subscriptions and QoS 1 exchanges, and asks the Hub for everything chatbus does. No socket: bytes
// come in through on_bytes() and go out through a SessionWriter, so tests drive it packet by packet.
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/status.hpp"
#include "common/token_bucket.hpp"
#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_packet.hpp"
#include "gateway/session_writer.hpp"
#include "gateway/subscriptions.hpp"

namespace chatbus::gateway {

class Hub;

struct SessionLimits {
    mqtt::DecodeLimits decode;
    std::size_t queue = 1000;          // packets waiting to be written, QoS 1 deliveries unacknowledged included
    std::size_t max_filters = 256;     // subscriptions per session
    std::size_t max_pending = 1000;    // PUBLISH and SUBSCRIBE waiting for the broker
    RateLimit packet_rate{1000, 2000};  // packets per second from the client, then it is closed
};

// Why a connection ended, as counted in the gateway's status (docs/mqtt.md, "Requests": `dropped`).
enum class CloseReason { client, malformed, flood, slow_consumer, keepalive, taken_over, unregistered, shutdown };

class MqttSession {
  public:
    // now_ms: when the connection was accepted (the wait for CONNECT starts then).
    MqttSession(Hub& hub, SessionWriter& out, std::uint64_t id, const SessionLimits& lim,
                std::int64_t now_ms = mono_ms());
    ~MqttSession();
    MqttSession(const MqttSession&) = delete;
    MqttSession& operator=(const MqttSession&) = delete;

    std::uint64_t id() const { return id_; }
    const std::string& nick() const { return nick_; }  // as registered; empty for an anonymous session
    const std::string& token() const { return token_; }
    const std::string& client_id() const { return client_id_; }
    bool clean() const { return clean_; }
    bool closed() const { return state_ == State::closed; }
    Subscriptions& subscriptions() { return subs_; }
    // Room events reach a session once each, in seq order: false for a seq at or below the last one it got in
    // `room` (a fill and a replay can overlap); true records `seq` as the last.
    bool take_seq(const std::string& room, std::uint64_t seq);
    const std::unordered_map<std::string, std::uint64_t>& room_seqs() const { return room_seqs_; }
    void restore_room_seqs(std::unordered_map<std::string, std::uint64_t> s) { room_seqs_ = std::move(s); }
    // Expires with the session: for answers that may come after it is gone.
    std::weak_ptr<bool> liveness() const { return alive_; }

    // Bytes from the connection, in order, received at now_ms.
    void on_bytes(std::span<const std::uint8_t> data, std::int64_t now_ms = mono_ms());
    // The connection ended without DISCONNECT (its will is published) or after it.
    void on_connection_lost();
    // True once the client has sent no whole packet for 1.5 × its keep-alive [MQTT-3.1.2-24], or no CONNECT
    // within 10 s of the connection. Bytes of a packet not yet complete do not count: a client dribbling a
    // packet byte by byte is as silent as one sending nothing.
    bool keepalive_expired(std::int64_t now_ms) const;

    // Answers from the hub.
    void accept(std::string display_nick, bool session_present);
    void refuse(mqtt::ConnectReturnCode code);
    // A message for the session at `qos`; `on_taken` runs once the client has it (written for QoS 0, PUBACK
    // received for QoS 1); it is dropped with the session otherwise.
    void deliver(std::string_view topic, std::string_view payload, std::uint8_t qos,
                 std::function<void()> on_taken = {});
    // A QoS 0 PUBLISH already encoded (the same bytes go to every follower of a room).
    void deliver_encoded(std::string_view packet);
    void error(std::string_view topic, std::uint16_t packet_id, Status s, std::string_view detail = {});
    void close(CloseReason why);

  private:
    enum class State { awaiting_connect, connecting, connected, closed };
    // Decodes and handles what is buffered; stops while CONNECT waits for the hub.
    void drain();
    // Closes the connection for a protocol violation, with the CONNACK MQTT prescribes for two of them.
    void violation(mqtt::DecodeError e);
    void handle(mqtt::Packet& p);
    void on_connect(mqtt::Connect& c);
    void on_publish(mqtt::Publish& p);
    void on_subscribe(mqtt::Subscribe& s);
    void on_unsubscribe(const mqtt::Unsubscribe& u);
    void on_puback(std::uint16_t id);
    // QoS 1 PUBLISHes are acknowledged in the order they came (MQTT 4.6), each once the broker answered.
    std::size_t begin_ack(std::uint8_t qos, std::uint16_t packet_id);
    void finish_ack(std::size_t ticket);
    void send(std::string_view bytes);
    std::uint16_t next_packet_id();
    void publish_will();

    Hub& hub_;
    SessionWriter& out_;
    std::uint64_t id_;
    SessionLimits lim_;
    State state_ = State::awaiting_connect;
    std::string in_;  // bytes received and not yet decoded
    bool draining_ = false;
    std::string nick_, token_, client_id_;
    bool clean_ = true;
    std::uint16_t keep_alive_s_ = 0;
    std::int64_t rx_ms_ = 0;           // when the latest bytes came
    std::int64_t last_packet_ms_ = 0;  // when the latest whole packet came (none yet: when accepted)
    TokenBucket packets_;
    std::optional<mqtt::Will> will_;
    Subscriptions subs_;
    std::unordered_map<std::string, std::uint64_t> room_seqs_;  // room -> seq of the last event delivered

    struct Ack {
        std::size_t ticket;
        std::uint16_t packet_id;
        bool done;
    };
    // A list, not a deque: libstdc++'s deque allocates 576 bytes as it is constructed, and most sessions never
    // publish at QoS 1.
    std::list<Ack> acks_;
    std::size_t next_ticket_ = 0;
    std::size_t pending_ = 0;  // PUBLISH and SUBSCRIBE waiting for the hub
    std::map<std::uint16_t, std::function<void()>> inflight_;  // QoS 1 deliveries awaiting PUBACK
    std::uint16_t last_packet_id_ = 0;
    // Hub callbacks hold this, not the session: a session gone before its answer is simply skipped.
    std::shared_ptr<bool> alive_;
};

}  // namespace chatbus::gateway
