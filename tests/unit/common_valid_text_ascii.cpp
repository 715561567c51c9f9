// valid_text reads printable ASCII eight bytes at a time: every byte value at every position of texts long
// enough to take that path gives the answer of the byte-by-byte rules.
#include <doctest/doctest.h>

#include <string>

#include "common/names.hpp"

using namespace chatbus;

TEST_CASE("valid_text: one odd byte anywhere in an ASCII text") {
    for (std::size_t len = 1; len <= 40; ++len) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            for (int b = 0; b < 256; ++b) {
                std::string text(len, 'a');
                text[pos] = static_cast<char>(b);
                // A lone byte of 0x80 and up is never UTF-8; below 0x20 only newline and tab pass; DEL never.
                bool want = (b >= 0x20 && b < 0x7F) || b == '\n' || b == '\t';
                CHECK_MESSAGE(valid_text(text, 4096) == want, "len ", len, " pos ", pos, " byte ", b);
            }
        }
    }
    CHECK(valid_text(std::string(64, '~') + "\xc3\xa9" + std::string(13, ' '), 4096));
    CHECK_FALSE(valid_text(std::string(64, '~') + "\xc3" + std::string(13, ' '), 4096));
}
