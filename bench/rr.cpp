// rr: requests with 1 and 100 in flight, each against the raw baseline with the same hops.
//   WHO: client → broker → client once the broker answers it from its own room copy (through a worker
//        before that); baseline a DEALER → ROUTER echo, one hop each way.
//   SEND of one text, acked: client → broker → worker → broker → client; baseline a ROUTER/DEALER zmq_proxy
//        with an echo worker behind it, two hops each way.
#include <string>

#include "bench/client.hpp"
#include "bench/cluster.hpp"
#include "bench/options.hpp"
#include "bench/rr.hpp"

namespace bench {

using namespace chatbus;

namespace {

enum class Request { who, send };
const char* name_of(Request what) {
    return what == Request::who ? "WHO" : "SEND";
}

constexpr std::size_t kText = 32;

bool reply_ok(Request what, const zmq::message_t& m, std::uint64_t& rid) {
    if (what == Request::who) {
        WhoReply w;
        if (decode_as(view(m), w) != Status::ok || w.status != 0 || w.members.size() != 1) return false;
        rid = w.rid;
        return true;
    }
    SendReply s;
    if (decode_as(view(m), s) != Status::ok || s.status != 0 || s.first_seq != s.last_seq) return false;
    rid = s.rid;
    return true;
}

Result chatbus_rr(const Cluster& c, const RrPlan& p, Request what) {
    zmq::context_t ctx(1);
    Dealer d(ctx, c.client_endpoint());
    Identity me = register_nick(d, "rr");
    std::string room = unique_name("rr");
    join_room(d, me, room);
    Who who{.room = room};
    Send send{.nick = me.nick, .token = me.token, .room = room, .texts = {std::string(kText, 't')}};
    std::string frame;
    Result r = drive_requests(
        "chatbus", p, d.socket(),
        [&](std::uint64_t rid) {
            frame.clear();
            if (what == Request::who) {
                who.rid = rid;
                encode_into(frame, who);
            } else {
                send.rid = rid;
                encode_into(frame, send);
            }
            d.socket().send(zmq::buffer(frame), zmq::send_flags::none);
        },
        [what](const zmq::message_t& m, std::uint64_t& rid) { return reply_ok(what, m, rid); });
    r.size = frame.size();
    return r;
}

}  // namespace

void run_rr(const Options& o, Report& rep) {
    for (int run = 0; run < o.runs; ++run) {
        for (Request what : {Request::who, Request::send}) {
            if (!o.only_request.empty() && o.only_request != name_of(what)) continue;
            for (int k : {1, 100}) {
                RrPlan p{k, o.quick ? 0.2 : 3.0, o.quick ? 0.02 : 0.3};
                // Frame sizes with this benchmark's names, for a raw-only run.
                std::size_t size = what == Request::who ? 31 : 160;
                if (o.chatbus()) {
                    for (const auto& link : o.links()) {
                        Cluster c(o, link);
                        Result r = c.tag(chatbus_rr(c, p, what));
                        r.variant = name_of(what);
                        size = r.size;
                        rep.add(std::move(r));
                    }
                }
                if (o.raw()) {
                    Result r = what == Request::who ? raw_echo_rr(p, size) : raw_proxy_rr(p, size);
                    r.variant = name_of(what);
                    rep.add(std::move(r));
                }
            }
        }
    }
}

}  // namespace bench
