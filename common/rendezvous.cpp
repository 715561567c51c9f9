#include "common/rendezvous.hpp"

namespace chatbus {

std::uint64_t fnv1a64(std::string_view a, std::string_view b) {
    std::uint64_t h = 14695981039346656037ull;
    auto mix = [&h](unsigned char c) {
        h ^= c;
        h *= 1099511628211ull;
    };
    for (char c : a) mix(static_cast<unsigned char>(c));
    mix(0);
    for (char c : b) mix(static_cast<unsigned char>(c));
    return h;
}

std::uint64_t rendezvous_weight(std::string_view worker_id, std::string_view room) {
    // FNV alone clusters on similar ids (w1, w2, ...); a final avalanche (splitmix64) spreads them.
    std::uint64_t z = fnv1a64(worker_id, room) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int rendezvous_owner(std::span<const std::string> workers, std::string_view room) {
    int best = -1;
    std::uint64_t best_w = 0;
    for (std::size_t i = 0; i < workers.size(); ++i) {
        std::uint64_t w = rendezvous_weight(workers[i], room);
        // Ties (practically impossible) go to the smaller id so every broker agrees.
        if (best < 0 || w > best_w || (w == best_w && workers[i] < workers[static_cast<std::size_t>(best)])) {
            best = static_cast<int>(i);
            best_w = w;
        }
    }
    return best;
}

}  // namespace chatbus
