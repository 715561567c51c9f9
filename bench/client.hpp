#pragma once
// The benchmark's side of the chatbus protocol: a DEALER that makes blocking calls for set-up, unique names,
// subscriptions with a sync mark, and a non-allocating reader of EVENT frames for the measured paths.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "common/codec.hpp"
#include "common/event_view.hpp"
#include "common/messages.hpp"
#include "common/requests.hpp"
#include "common/socket_util.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;
inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Names unique to this process, so runs against a long-lived broker (--broker) never collide.
std::string unique_name(std::string_view what);

struct Identity {
    std::string nick, token;
};

class Dealer {
  public:
    Dealer(zmq::context_t& ctx, const std::string& endpoint);
    zmq::socket_t& socket() { return s_; }
    std::uint64_t next_rid() { return ++rid_; }

    // Sends `req` with a fresh rid and waits for its reply with that rid, skipping anything else
    // (notifications). Throws std::runtime_error on timeout.
    template <class Req>
    chatbus::reply_of_t<Req> call(Req req, int timeout_ms = 5000) {
        req.rid = next_rid();
        std::string frame = chatbus::encode(req);
        s_.send(zmq::buffer(frame), zmq::send_flags::none);
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (Clock::now() < deadline) {
            zmq::pollitem_t item{s_.handle(), 0, ZMQ_POLLIN, 0};
            zmq::poll(&item, 1, std::chrono::milliseconds(50));
            zmq::message_t m;
            while (s_.recv(m, zmq::recv_flags::dontwait)) {
                chatbus::reply_of_t<Req> rep;
                if (chatbus::decode_as(chatbus::view(m), rep) == chatbus::Status::ok && rep.rid == req.rid)
                    return rep;
            }
        }
        throw std::runtime_error("no reply from the broker in time");
    }

  private:
    zmq::socket_t s_;
    std::uint64_t rid_ = 0;
};

// Registers a fresh nick; throws unless ok.
Identity register_nick(Dealer& d, std::string_view what);
// Registers n fresh nicks with many REGISTERs in flight (set-up for thousands of sessions); throws unless
// every one is ok.
std::vector<Identity> register_nicks(Dealer& d, std::string_view what, std::size_t n);
// Joins, retrying while no worker is live yet (right after start-up). Throws unless ok.
void join_room(Dealer& d, const Identity& id, const std::string& room);
// The events endpoint, from HELLO.
std::string events_endpoint(Dealer& d);

// Subscribes `s` to `topic`, then waits for its sync mark (the broker answers sync/NONCE subscriptions).
// Returns false on timeout.
bool subscribe_synced(zmq::socket_t& s, const std::string& topic, int timeout_ms = 5000);

// A topic-prefixed EVENT frame read in place (the measurements need seq, kind and text), without allocating.
bool peek_event_frame(std::string_view frame, chatbus::EventView& out);

// Raw baseline frames: topic, then seq and a send timestamp (8 bytes each), then padding to `size`.
std::string raw_frame(const std::string& topic, std::size_t size);
void raw_stamp(std::string& frame, std::size_t topic_len, std::uint64_t seq, std::int64_t ts_ns);
bool raw_read(std::string_view frame, std::size_t topic_len, std::uint64_t& seq, std::int64_t& ts_ns);

// chatbus texts for latency: the send timestamp in decimal, padded to `size` (valid text: digits and 'x').
std::string stamped_text(std::int64_t ts_ns, std::size_t size);
std::int64_t read_stamp(std::string_view text);

}  // namespace bench
