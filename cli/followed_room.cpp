#include "cli/followed_room.hpp"

#include <utility>

namespace chatbus::cli {

std::optional<SeqRange> FollowedRoom::receive(std::uint64_t seq) {
    const std::optional<std::uint64_t> before = std::exchange(received, seq);
    // What came before the subscription was active is not the socket's loss; a lower seq is the room's
    // numbering starting again.
    if (!before || seq <= *before + 1) return std::nullopt;
    return SeqRange{.from = *before + 1, .to = seq - 1};
}

}  // namespace chatbus::cli
