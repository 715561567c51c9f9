// Hidden modes for `scale`: a listener child (holds a share of the listeners and room subscribers, reports on
// stdout) and the raw-libzmq server (ROUTER echo + XPUB) that stands in for the broker in the baseline.
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "bench/client.hpp"
#include "common/event_kind.hpp"
#include "bench/options.hpp"
#include "bench/proc.hpp"
#include "common/ready_file.hpp"

namespace bench {

using namespace chatbus;

int scale_child_main(const std::string& plan_file) {
    raise_fd_limit();
    std::ifstream in(plan_file);
    std::string mode, client_ep, events_ep, line;
    in >> mode >> client_ep >> events_ep;
    std::vector<Identity> listeners;
    std::vector<std::string> rooms;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string kind;
        ls >> kind;
        if (kind == "L") {
            Identity id;
            ls >> id.nick >> id.token;
            listeners.push_back(id);
        } else if (kind == "S") {
            rooms.emplace_back();
            ls >> rooms.back();
        }
    }
    const bool chatbus = mode == "chatbus";
    zmq::context_t ctx(1);
    ctx.set(zmq::ctxopt::max_sockets, static_cast<int>(listeners.size() + rooms.size() + 64));

    // Listeners arrive in waves: 10k connects at once overflow the listen backlog (libzmq's default is 100),
    // and the dropped SYNs come back only after the kernel's exponential retry (1, 3, 7, 15 s ...).
    constexpr std::size_t kWave = 250;
    std::vector<zmq::socket_t> dealers;
    dealers.reserve(listeners.size());
    int ok_l = 0;
    zmq::message_t m;
    for (std::size_t first = 0; first < listeners.size(); first += kWave) {
        std::size_t last = std::min(listeners.size(), first + kWave);
        std::vector<zmq::pollitem_t> items;
        for (std::size_t i = first; i < last; ++i) {
            dealers.emplace_back(ctx, zmq::socket_type::dealer);
            auto& s = dealers.back();
            s.set(zmq::sockopt::linger, 0);
            s.connect(client_ep);
            std::string f =
                chatbus ? encode(Listen{.rid = i + 1, .nick = listeners[i].nick, .token = listeners[i].token})
                        : std::string("H");
            s.send(zmq::buffer(f), zmq::send_flags::none);
            items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
        }
        std::vector<char> answered(last - first, 0);
        std::size_t n_answered = 0;
        auto deadline = Clock::now() + std::chrono::seconds(20);
        while (n_answered < answered.size() && Clock::now() < deadline) {
            zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
            for (std::size_t j = 0; j < items.size(); ++j) {
                if (!(items[j].revents & ZMQ_POLLIN)) continue;
                while (dealers[first + j].recv(m, zmq::recv_flags::dontwait)) {
                    if (answered[j]) continue;
                    ListenReply r;
                    bool ok = chatbus ? decode_as(view(m), r) == Status::ok && r.status == 0 : view(m) == "H";
                    answered[j] = 1;
                    ++n_answered;
                    ok_l += ok;
                }
            }
        }
        if (n_answered < answered.size())
            std::fprintf(stderr, "scale child: %zu of %zu listeners unanswered\n",
                         answered.size() - n_answered, answered.size());
    }
    std::vector<zmq::pollitem_t> items;

    // One subscriber per room, each proving its subscription with a sync mark.
    std::vector<zmq::socket_t> subs;
    std::vector<std::string> syncs;
    for (const auto& room : rooms) {
        subs.emplace_back(ctx, zmq::socket_type::sub);
        auto& s = subs.back();
        s.set(zmq::sockopt::linger, 0);
        s.connect(events_ep);
        s.set(zmq::sockopt::subscribe, room_topic(room));
        syncs.push_back(sync_topic(room));  // room names are unique and valid nonces
        s.set(zmq::sockopt::subscribe, syncs.back());
    }
    items.clear();
    for (auto& s : subs) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    std::vector<int> synced(subs.size(), 0), got(subs.size(), 0);
    int ok_s = 0;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (ok_s < static_cast<int>(subs.size()) && Clock::now() < deadline) {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
        for (std::size_t i = 0; i < subs.size(); ++i)
            while (subs[i].recv(m, zmq::recv_flags::dontwait))
                if (!synced[i] && view(m).substr(0, syncs[i].size()) == syncs[i]) synced[i] = 1, ++ok_s;
    }
    std::printf("ready %d %d\n", ok_l, ok_s);
    std::fflush(stdout);

    // Each room's subscriber must get exactly its room's one message.
    std::uint64_t delivered = 0, wrong = 0;
    deadline = Clock::now() + std::chrono::seconds(30);
    while (delivered < subs.size() && Clock::now() < deadline) {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
        for (std::size_t i = 0; i < subs.size(); ++i) {
            while (subs[i].recv(m, zmq::recv_flags::dontwait)) {
                std::string topic = room_topic(rooms[i]);
                if (view(m).substr(0, topic.size()) != topic) continue;  // late sync marks
                EventView ev;
                bool message =
                    !chatbus || (peek_event_frame(view(m), ev) && ev.kind == chatbus::event_kind::message);
                if (!message) continue;
                if (got[i]++)
                    ++wrong;
                else
                    ++delivered;
            }
        }
    }
    std::printf("done %llu %llu\n", static_cast<unsigned long long>(delivered - std::min(delivered, wrong)),
                static_cast<unsigned long long>(wrong));
    std::fflush(stdout);
    return 0;
}

int raw_scale_server_main(const std::string& ready_file) {
    raise_fd_limit();
    zmq::context_t ctx(1);
    zmq::socket_t router(ctx, zmq::socket_type::router), xpub(ctx, zmq::socket_type::xpub);
    for (auto* s : {&router, &xpub}) {
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::sndhwm, 100000);  // as the broker's
        s->set(zmq::sockopt::rcvhwm, 100000);
    }
    xpub.set(zmq::sockopt::xpub_verbose, 1);
    router.bind("tcp://127.0.0.1:*");
    xpub.bind("tcp://127.0.0.1:*");
    write_ready_file(ready_file, {{"client", last_endpoint(router)}, {"events", last_endpoint(xpub)}});
    zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {xpub.handle(), 0, ZMQ_POLLIN, 0}};
    std::vector<zmq::message_t> parts;
    zmq::message_t m;
    // Runs until the parent stops it (SIGTERM ends the process).
    while (true) {
        zmq::poll(items, 2, std::chrono::milliseconds(100));
        while (recv_multipart(router, parts)) {
            if (parts.size() != 2) continue;
            std::string_view body = view(parts[1]);
            if (!body.empty() && body[0] == 'P')
                xpub.send(zmq::buffer(body.substr(1)), zmq::send_flags::dontwait);
            send_frames(router, {view(parts[0]), body});
        }
        while (xpub.recv(m, zmq::recv_flags::dontwait)) {
            std::string_view sub = view(m);
            // Answer sync marks as the broker does.
            if (sub.size() > 1 && sub[0] == 1 && sub.substr(1, kSyncTopicPrefix.size()) == kSyncTopicPrefix)
                xpub.send(zmq::buffer(sub.substr(1)), zmq::send_flags::dontwait);
        }
    }
}

}  // namespace bench
