#pragma once
// The benchmark's MQTT 3.1.1 client: one non-blocking TCP connection speaking through the project's codec
// (gateway/mqtt_encoder.hpp, gateway/mqtt_decoder.hpp as Role::client). No thread and no loop of its own: the
// caller polls fd() and calls read() and flush(), so one thread can drive many connections. The same code
// talks to chatbus-gateway and to Mosquitto, so neither side is measured with a better client.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "gateway/mqtt_decoder.hpp"
#include "gateway/mqtt_encoder.hpp"
#include "gateway/mqtt_packet.hpp"

namespace bench {

class MqttConn {
  public:
    MqttConn() = default;
    ~MqttConn();
    MqttConn(MqttConn&& o) noexcept;
    MqttConn& operator=(MqttConn&& o) noexcept;
    MqttConn(const MqttConn&) = delete;
    MqttConn& operator=(const MqttConn&) = delete;

    // Starts a non-blocking connect to 127.0.0.1:port (TCP_NODELAY, as the gateway sets on its side). Throws
    // when no socket can be made (out of descriptors).
    void open(int port);
    void close();
    int fd() const { return fd_; }
    bool is_open() const { return fd_ >= 0; }

    // Appends a packet to what is waiting to be written; flush() writes it.
    template <class P>
    void queue(const P& p) {
        chatbus::mqtt::encode(out_, p);
    }
    // Writes as much as the socket takes. False when the connection failed.
    bool flush();
    bool wants_write() const { return out_at_ < out_.size(); }

    // Reads what the socket has and calls on_packet(Packet&) for every whole packet. False on end of stream,
    // a socket error or a packet the codec refuses.
    template <class F>
    bool read(F&& on_packet) {
        if (!fill()) return false;
        std::size_t at = 0;
        bool ok = true;
        while (true) {
            std::size_t used = 0;
            chatbus::mqtt::Packet p;
            auto e = chatbus::mqtt::decode_packet(
                std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in_.data()) + at,
                                              in_.size() - at),
                chatbus::mqtt::Role::client, limits(), p, used);
            if (e == chatbus::mqtt::DecodeError::need_more) break;
            if (e != chatbus::mqtt::DecodeError::none) {
                ok = false;
                break;
            }
            at += used;
            on_packet(p);
        }
        in_.erase(0, at);
        return ok && !eof_;
    }

  private:
    // Appends what the socket has to in_; false on a socket error.
    bool fill();
    static const chatbus::mqtt::DecodeLimits& limits();

    int fd_ = -1;
    bool eof_ = false;
    std::string out_, in_;
    std::size_t out_at_ = 0;
};

// The two fields of a CONNECT the workloads vary; keep-alive long enough that no PINGREQ is needed while a
// measurement lasts.
chatbus::mqtt::Connect mqtt_connect(std::string client_id, std::string user = {}, std::string password = {});

}  // namespace bench
