#include "common/token.hpp"

#include <sodium.h>

#include <stdexcept>

namespace chatbus {
namespace {

void ensure_sodium() {
    static const bool ok = sodium_init() >= 0;
    if (!ok) throw std::runtime_error("libsodium failed to initialise");
}

}  // namespace

std::string new_token() {
    ensure_sodium();
    std::array<unsigned char, 32> raw{};
    randombytes_buf(raw.data(), raw.size());
    std::string hex(raw.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
    hex.pop_back();
    return hex;
}

TokenHash hash_token(std::string_view token) {
    ensure_sodium();
    TokenHash h{};
    crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(token.data()), token.size(),
                       nullptr, 0);
    return h;
}

bool token_matches(std::string_view token, const TokenHash& stored) {
    TokenHash h = hash_token(token);
    return sodium_memcmp(h.data(), stored.data(), h.size()) == 0;
}

}  // namespace chatbus
