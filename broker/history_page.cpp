#include "broker/history_page.hpp"

#include <algorithm>

#include "common/codec.hpp"

namespace chatbus {

void encode_history_page(std::string& out, const History& req, std::string_view room, const RoomCopy& copy) {
    const auto& kept = copy.history;
    auto first = std::partition_point(kept.begin(), kept.end(),
                                      [&](const KeptEvent& e) { return e.seq <= req.since; });
    auto count = static_cast<std::uint64_t>(kept.end() - first);
    if (req.last > 0 && req.last < count) first = kept.end() - static_cast<std::ptrdiff_t>(req.last);
    const auto selected = static_cast<std::size_t>(kept.end() - first);
    // One page: within the 1,024-element decode limit and far below any frame limit; the client asks again
    // from the last seq for the rest.
    std::size_t n = 0, bytes = 0;
    for (; n < selected && n < kHistoryPageEvents; ++n) {
        bytes += first[static_cast<std::ptrdiff_t>(n)].frame.size();
        if (n > 0 && bytes > kHistoryPageBytes) break;
    }
    append_header(out, MsgType::history_reply);
    StringWriter w{out};
    msgpack::packer<StringWriter> pk(w);
    // The fields of HistoryReply, in its order.
    pk.pack_map(6);
    pk.pack("rid").pack(req.rid);
    pk.pack("status").pack(static_cast<std::uint64_t>(Status::ok));
    pk.pack("error").pack(std::string_view{});
    pk.pack("room").pack(room);
    pk.pack("events").pack_array(static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; ++i) out.append(first[static_cast<std::ptrdiff_t>(i)].body());
    pk.pack("more").pack(n < selected);
}

}  // namespace chatbus
