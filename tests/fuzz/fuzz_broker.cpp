// libFuzzer target: a real chatbus::Broker, serving in a thread on tcp://127.0.0.1:* (its zmq context is private,
// so inproc:// endpoints cannot be reached from here), with the harness as a client DEALER and as a registered
// fake worker that runs the real request handler (worker/request_handler.hpp) on what it is forwarded.
//
// Input: records (fuzz_input.hpp); the first record's op picks the mode, then:
//   mode 0  every record is one client frame (single-part messages)
//   mode 1  the records are the frames of one multipart client message
//   mode 2  the records are the frames of one multipart message from the registered fake worker
//   mode 3  the harness sends a valid SEND for room "lobby"; when it is forwarded, the fake worker answers
//           W_REPLY{bid} followed by the records (the reply frame and the "events")
// The 64-byte placeholder "TTT...T" in any frame is replaced by the token of the harness's nick "fuzzer".
// After each input the broker must answer a HELLO within 5 s; otherwise the target aborts (a hang is a bug).
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "broker/broker.hpp"
#include "common/codec.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "common/messages.hpp"
#include "worker/request_handler.hpp"
#include "worker/room_table.hpp"
#include "common/socket_util.hpp"
#include "common/worker_messages.hpp"

using namespace chatbus;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_broker: %s\n", what.c_str());
    std::abort();
}

// The field every reply has.
struct StatusOnly {
    std::uint64_t status = 0;
    MSGPACK_DEFINE_MAP(status)
};

class Harness {
  public:
    Harness() : client_(ctx_, zmq::socket_type::dealer), worker_(ctx_, zmq::socket_type::dealer) {
        spdlog::set_level(spdlog::level::off);
        BrokerConfig cfg;
        cfg.client = "tcp://127.0.0.1:*";
        cfg.worker = "tcp://127.0.0.1:*";
        cfg.events = "tcp://127.0.0.1:*";
        cfg.request_timeout_ms = 2000;
        // Millions of inputs from one socket and one nick: rate limits would hide the handlers behind them.
        cfg.client_rate = cfg.nick_rate = 0;
        cfg.max_clients = 0;
        broker_ = std::make_unique<Broker>(cfg);
        broker_->bind();
        thread_ = std::thread([b = broker_.get()] { b->run(); });
        // libFuzzer ends with exit(): stop the broker thread before static destructors run under it.
        std::atexit([] { stop_broker(); });
        for (auto* s : {&client_, &worker_}) s->set(zmq::sockopt::linger, 0);
        client_.connect(broker_->endpoints().client);
        worker_.set(zmq::sockopt::routing_id, "fuzz-worker-socket");
        worker_.connect(broker_->endpoints().worker);
        handshake();
        if (!pump(5000, [&] { return live_; })) fail("the fake worker was never welcomed");
        register_nick();
        Join j{next_rid_++, std::string(fuzz::kFuzzNick), token_, std::string(fuzz::kFuzzRoom)};
        if (request_ok(encode(j), j.rid) != 0) fail("harness JOIN failed");
    }

    void run(const std::uint8_t* data, std::size_t size) {
        auto recs = fuzz::split_records(data, size);
        if (recs.empty()) return;
        std::vector<std::string> frames;
        for (const auto& r : recs) frames.push_back(substitute(r.bytes));
        // A forged reply may reach the client during a later input's pump: tolerated for a while.
        if (recs[0].op % 4 == 3) forged_until_ = Clock::now() + std::chrono::seconds(3);
        switch (recs[0].op % 4) {
            case 0:
                for (const auto& f : frames) send_frames(client_, {f});
                break;
            case 1:
                send_all(client_, frames);
                break;
            case 2:
                if (no_drain_) {
                    // Known bug (docs/security.md): a drain frees the worker's routing id while it is in use.
                    for (auto& f : frames) {
                        if (f.size() >= kHeaderSize && f.compare(0, 3, "CB\x01") == 0 && f[3] == '\x43') f[3] = '\x42';
                    }
                }
                send_all(worker_, frames);
                break;
            case 3:
                forged_reply(frames);
                break;
        }
        // Whatever came before, the broker still serves.
        std::uint64_t rid = next_rid_++;
        send_frames(client_, {encode(Hello{rid})});
        if (!pump(5000, [&] { return hello_seen_ == rid; })) fail("no HELLO_REPLY within 5 s");
        if (reregister_) {
            reregister_was_guess_ = true;
            register_nick();
            reregister_was_guess_ = false;
        }
        ++runs_;
    }

    void stop() {
        broker_->stop();
        if (thread_.joinable()) thread_.join();
    }

  private:
    static void stop_broker();
    static void send_all(zmq::socket_t& s, const std::vector<std::string>& frames) {
        for (std::size_t i = 0; i < frames.size(); ++i) {
            auto flags = zmq::send_flags::dontwait;
            if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
            s.send(zmq::const_buffer(frames[i].data(), frames[i].size()), flags);
        }
    }

    std::string substitute(std::string_view in) const {
        std::string out(in);
        for (auto p = out.find(fuzz::kTokenPlaceholder); p != std::string::npos;
             p = out.find(fuzz::kTokenPlaceholder, p + token_.size())) {
            out.replace(p, fuzz::kTokenPlaceholder.size(), token_);
        }
        return out;
    }

    void handshake() {
        live_ = false;
        send_frames(worker_, {encode(WReady{"fuzz-worker", "fuzzhost", 1})});
    }

    void register_nick() {
        reregister_ = false;
        Register r{next_rid_++, std::string(fuzz::kFuzzNick)};
        awaited_ = r.rid;
        got_ = {};
        send_frames(client_, {encode(r)});
        if (!pump(5000, [&] { return !got_.empty(); })) fail("no REGISTER_REPLY");
        RegisterReply rep;
        if (decode_as(got_, rep) != Status::ok) fail("harness REGISTER_REPLY undecodable");
        // The fake worker may forge an UNREGISTER_REPLY that the broker relays: then the nick was never
        // unregistered, is still ours, and its token still holds.
        if (reregister_was_guess_ && rep.status == static_cast<std::uint64_t>(Status::nick_taken)) return;
        if (rep.status != 0) fail("harness REGISTER failed");
        token_ = rep.token;
    }

    // Sends a request and returns the status of its reply (pumping the fake worker meanwhile).
    std::uint64_t request_ok(const std::string& frame, std::uint64_t rid) {
        awaited_ = rid;
        got_ = {};
        send_frames(client_, {frame});
        if (!pump(5000, [&] { return !got_.empty(); })) fail("no reply to a harness request");
        Decoded d;
        if (decode(got_, d) != Status::ok) fail("harness request: undecodable reply");
        StatusOnly s;
        try {
            d.body.get().convert(s);
        } catch (...) {
            fail("harness request: reply without status");
        }
        return s.status;
    }

    void forged_reply(const std::vector<std::string>& frames) {
        Send s{next_rid_++, std::string(fuzz::kFuzzNick), token_, std::string(fuzz::kFuzzRoom), {"x"}};
        awaited_ = s.rid;
        got_ = {};
        capture_ = true;
        captured_.reset();
        send_frames(client_, {encode(s)});
        // Either the request reaches the fake worker, or the broker answers it itself (no_worker, ...).
        pump(3000, [&] { return captured_.has_value() || !got_.empty(); });
        capture_ = false;
        if (!captured_) return;
        std::vector<std::string> out{encode(WReply{*captured_})};
        out.insert(out.end(), frames.begin(), frames.end());
        send_all(worker_, out);
    }

    template <class Done>
    bool pump(int timeout_ms, Done done) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (!done()) {
            if (Clock::now() > deadline) return false;
            zmq::pollitem_t items[] = {{client_.handle(), 0, ZMQ_POLLIN, 0},
                                       {worker_.handle(), 0, ZMQ_POLLIN, 0}};
            try {
                zmq::poll(items, 2, std::chrono::milliseconds(20));
            } catch (const zmq::error_t& e) {
                // libFuzzer's timers interrupt the poll; that is not the broker's doing.
                if (e.num() != EINTR) throw;
            }
            while (recv_multipart(worker_, parts_)) on_worker(parts_);
            while (recv_multipart(client_, parts_)) on_client(parts_);
        }
        return true;
    }

    void on_client(std::vector<zmq::message_t>& parts) {
        if (parts.size() != 1) fail("the broker sent a client a multipart message");
        std::string_view f = view(parts[0]);
        Decoded d;
        if (decode(f, d) != Status::ok) {
            // The broker passes a worker's reply frame on unchecked (workers are trusted, docs/security.md):
            // after a forged W_REPLY (mode 3) that frame may be anything.
            if (Clock::now() < forged_until_) return;
            fail("the broker sent a client an undecodable frame");
        }
        std::uint64_t rid = peek_rid(d);
        if (d.type == MsgType::hello_reply) hello_seen_ = rid;
        if (awaited_ && rid == awaited_ && (static_cast<std::uint8_t>(d.type) & 0x80)) {
            got_ = std::string(f);
            awaited_ = 0;
        }
        // The fuzz input may unregister the harness's nick; register it again after this input.
        if (d.type == MsgType::unregister_reply) {
            UnregisterReply u;
            if (body_as(d, u) == Status::ok && u.status == 0) reregister_ = true;
        }
    }

    void on_worker(std::vector<zmq::message_t>& parts) {
        Decoded d;
        if (decode(view(parts[0]), d) != Status::ok) fail("the broker sent a worker an undecodable frame");
        switch (d.type) {
            case MsgType::w_welcome:
                if (!live_) {
                    live_ = true;
                    send_frames(worker_, {encode(WHeartbeat{})});
                }
                return;
            case MsgType::w_heartbeat:
                send_frames(worker_, {encode(WHeartbeat{})});
                return;
            case MsgType::w_disconnect:
                // Drained (the fuzz input said W_DISCONNECT) or forgotten: start over, as a worker does.
                handshake();
                return;
            case MsgType::w_state: {
                WState s;
                if (body_as(d, s) == Status::ok) {
                    table_.import(s);
                } else {
                    table_.release(peek_string(d, "room"));
                }
                return;
            }
            case MsgType::w_release: {
                table_.release(peek_string(d, "room"));
                return;
            }
            case MsgType::w_request: {
                WRequest r;
                if (parts.size() != 2 || body_as(d, r) != Status::ok) fail("malformed W_REQUEST from the broker");
                if (capture_ && !captured_) {
                    captured_ = r.bid;
                    return;
                }
                std::vector<Event> events;
                auto reply = handle_request(table_, view(parts[1]), events);
                if (!reply) return;
                std::vector<std::string> out{encode(WReply{r.bid}), *reply};
                for (const auto& e : events) out.push_back(encode_with_topic(room_topic(e.room), e));
                send_all(worker_, out);
                return;
            }
            default:
                fail("unexpected message type from the broker on the worker channel");
        }
    }

    zmq::context_t ctx_{1};
    std::unique_ptr<Broker> broker_;
    std::thread thread_;
    zmq::socket_t client_, worker_;
    std::vector<zmq::message_t> parts_;
    RoomTable table_{RoomLimits{.history = 50}};
    std::string token_;
    std::uint64_t next_rid_ = 1, hello_seen_ = 0, awaited_ = 0, runs_ = 0;
    std::string got_;
    bool live_ = false, reregister_ = false, reregister_was_guess_ = false, capture_ = false;
    Clock::time_point forged_until_{};
    // CHATBUS_FUZZ_BROKER_NO_DRAIN=1 turns the fake worker's W_DISCONNECT into W_HEARTBEAT, so a run can look past
    // the drain use-after-free while it is open. Off by default: the smoke test must find it.
    bool no_drain_ = std::getenv("CHATBUS_FUZZ_BROKER_NO_DRAIN") != nullptr;
    std::optional<std::uint64_t> captured_;
};

Harness* harness = nullptr;  // never destroyed; its broker thread is stopped at exit

void Harness::stop_broker() {
    if (harness) harness->stop();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!harness) harness = new Harness();
    harness->run(data, size);
    return 0;
}
