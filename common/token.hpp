#pragma once
// Nick tokens: random secrets handed out once; only their hash is kept (libsodium: CSPRNG, BLAKE2b and a
// constant-time compare, which hand-written code would get wrong more easily than not).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace chatbus {

using TokenHash = std::array<std::uint8_t, 32>;

// 32 random bytes as 64 lowercase hex characters.
std::string new_token();
TokenHash hash_token(std::string_view token);
bool token_matches(std::string_view token, const TokenHash& stored);

}  // namespace chatbus
