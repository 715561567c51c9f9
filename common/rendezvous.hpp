#pragma once
// Rendezvous (highest-random-weight) hashing: the owner of a room is the worker with the highest
// fnv1a64(worker_id "\0" room). Losing a worker moves only its rooms; adding one moves only the rooms it
// wins.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace chatbus {

std::uint64_t fnv1a64(std::string_view a, std::string_view b);
std::uint64_t rendezvous_weight(std::string_view worker_id, std::string_view room);
// Index into `workers` of the room's owner, or -1 when there is none.
int rendezvous_owner(std::span<const std::string> workers, std::string_view room);

}  // namespace chatbus
