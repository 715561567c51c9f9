// Nick, room and text rules (docs/protocol.md, "Names and text").
#include <doctest/doctest.h>

#include <string>

#include "common/names.hpp"

using namespace chatbus;

// "Nick: 1–32 characters from A–Z a–z 0–9 _ -, starting with a letter."
TEST_CASE("valid_nick: lengths") {
    CHECK_FALSE(valid_nick(""));
    CHECK(valid_nick("a"));
    CHECK(valid_nick("Z"));
    CHECK(valid_nick(std::string(32, 'a')));
    CHECK(valid_nick("a" + std::string(31, '9')));
    CHECK_FALSE(valid_nick(std::string(33, 'a')));
    CHECK_FALSE(valid_nick(std::string(1000, 'a')));
    CHECK(kMaxNickLength == 32);
}

TEST_CASE("valid_nick: first character must be a letter") {
    for (char c = 'a'; c <= 'z'; ++c) CHECK(valid_nick(std::string(1, c) + "x"));
    for (char c = 'A'; c <= 'Z'; ++c) CHECK(valid_nick(std::string(1, c) + "x"));
    for (char c = '0'; c <= '9'; ++c) CHECK_FALSE(valid_nick(std::string(1, c) + "x"));
    CHECK_FALSE(valid_nick("_x"));
    CHECK_FALSE(valid_nick("-x"));
}

TEST_CASE("valid_nick: every byte value in a later position") {
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-';
        CAPTURE(b);
        CHECK(valid_nick(std::string("a") + c + "b") == allowed);
    }
    CHECK(valid_nick("Alice_Bob-42"));
    CHECK_FALSE(valid_nick("al ice"));
    CHECK_FALSE(valid_nick("alice."));
    CHECK_FALSE(valid_nick("al\xC3\xA9"));  // é
    CHECK_FALSE(valid_nick(std::string("al\0ce", 5)));
}

// "Room: 1–64 characters from a–z 0–9 _ - ., starting with a letter or digit. Room names are
// case-insensitive: servers fold ASCII upper case to lower case."
TEST_CASE("valid_room: lengths") {
    CHECK_FALSE(valid_room(""));
    CHECK(valid_room("a"));
    CHECK(valid_room("7"));
    CHECK(valid_room(std::string(64, 'r')));
    CHECK_FALSE(valid_room(std::string(65, 'r')));
    CHECK(kMaxRoomLength == 64);
}

TEST_CASE("valid_room: first character must be a letter or digit") {
    for (char c = 'a'; c <= 'z'; ++c) CHECK(valid_room(std::string(1, c)));
    for (char c = '0'; c <= '9'; ++c) CHECK(valid_room(std::string(1, c)));
    CHECK(valid_room("General"));  // upper case is accepted and folded
    CHECK_FALSE(valid_room("_x"));
    CHECK_FALSE(valid_room("-x"));
    CHECK_FALSE(valid_room(".x"));
    CHECK_FALSE(valid_room("."));
    CHECK_FALSE(valid_room(".."));
}

TEST_CASE("valid_room: every byte value in a later position") {
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '-' || c == '.';
        CAPTURE(b);
        CHECK(valid_room(std::string("r") + c + "m") == allowed);
    }
    CHECK(valid_room("dev.chat_room-1"));
    CHECK_FALSE(valid_room("room/x"));
    CHECK_FALSE(valid_room(std::string("ab\0c", 4)));  // the topic terminator can never be in a room name
    CHECK_FALSE(valid_room("a b"));
}

TEST_CASE("fold_name: ASCII upper case to lower case, nothing else") {
    CHECK(fold_name("Alice") == "alice");
    CHECK(fold_name("ALICE") == fold_name("alice"));
    CHECK(fold_name("General.Room_1-X") == "general.room_1-x");
    CHECK(fold_name("") == "");
    CHECK(fold_name("@[`{") == "@[`{");          // neighbours of A-Z and a-z
    CHECK(fold_name("\xC3\x89") == "\xC3\x89");  // É is not ASCII: unchanged
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        char want = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
        CHECK(fold_name(std::string(1, c)) == std::string(1, want));
    }
    // Folding keeps a valid name valid.
    CHECK(valid_room(fold_name("Big.Room")));
    CHECK(valid_nick(fold_name("Alice")));
}

// "Text: valid UTF-8, 1 byte to max_text bytes, no control characters (U+0000–U+001F, U+007F) except newline
// and tab."
TEST_CASE("valid_text: length boundaries") {
    CHECK_FALSE(valid_text("", 4096));
    CHECK(valid_text("a", 4096));
    CHECK(valid_text(std::string(4096, 'a'), 4096));
    CHECK_FALSE(valid_text(std::string(4097, 'a'), 4096));
    CHECK(valid_text("abc", 3));
    CHECK_FALSE(valid_text("abcd", 3));
    // The limit is in bytes, not characters: 2,048 two-byte characters fit, one more byte does not.
    std::string e;
    for (int i = 0; i < 2048; ++i) e += "\xC3\xA9";
    CHECK(valid_text(e, 4096));
    CHECK_FALSE(valid_text(e + "a", 4096));
    CHECK_FALSE(valid_text(std::string(4095, 'a') + "\xC3\xA9", 4096));
}

TEST_CASE("valid_text: well-formed UTF-8 of every length") {
    CHECK(valid_text("\xC2\x80", 10));          // U+0080, smallest 2-byte
    CHECK(valid_text("\xC3\xA9", 10));          // é
    CHECK(valid_text("\xDF\xBF", 10));          // U+07FF
    CHECK(valid_text("\xE0\xA0\x80", 10));      // U+0800, smallest 3-byte
    CHECK(valid_text("\xE2\x82\xAC", 10));      // €
    CHECK(valid_text("\xED\x9F\xBF", 10));      // U+D7FF, just below the surrogates
    CHECK(valid_text("\xEE\x80\x80", 10));      // U+E000, just above
    CHECK(valid_text("\xEF\xBF\xBF", 10));      // U+FFFF
    CHECK(valid_text("\xF0\x90\x80\x80", 10));  // U+10000, smallest 4-byte
    CHECK(valid_text("\xF0\x9F\x98\x80", 10));  // 😀
    CHECK(valid_text("\xF4\x8F\xBF\xBF", 10));  // U+10FFFF, the last scalar value
    CHECK(valid_text("mixed \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 ok", 100));
}

TEST_CASE("valid_text: overlong forms, surrogates, values past U+10FFFF") {
    CHECK_FALSE(valid_text("\xC0\x80", 10));                  // overlong NUL
    CHECK_FALSE(valid_text("\xC0\xAF", 10));                  // overlong '/'
    CHECK_FALSE(valid_text("\xC1\xBF", 10));                  // overlong U+007F
    CHECK_FALSE(valid_text("\xE0\x80\x80", 10));              // overlong 3-byte
    CHECK_FALSE(valid_text("\xE0\x9F\xBF", 10));              // overlong U+07FF
    CHECK_FALSE(valid_text("\xF0\x80\x80\x80", 10));          // overlong 4-byte
    CHECK_FALSE(valid_text("\xF0\x8F\xBF\xBF", 10));          // overlong U+FFFF
    CHECK_FALSE(valid_text("\xED\xA0\x80", 10));              // U+D800
    CHECK_FALSE(valid_text("\xED\xBF\xBF", 10));              // U+DFFF
    CHECK_FALSE(valid_text("\xED\xA0\xBD\xED\xB8\x80", 10));  // a CESU-8 surrogate pair
    CHECK_FALSE(valid_text("\xF4\x90\x80\x80", 10));          // U+110000
    CHECK_FALSE(valid_text("\xF7\xBF\xBF\xBF", 10));          // U+1FFFFF
    CHECK_FALSE(valid_text("\xF8\x88\x80\x80\x80", 10));      // 5-byte form
    CHECK_FALSE(valid_text("\xFC\x84\x80\x80\x80\x80", 10));  // 6-byte form
    CHECK_FALSE(valid_text("\xFE", 10));
    CHECK_FALSE(valid_text("\xFF", 10));
}

TEST_CASE("valid_text: truncated and broken sequences") {
    CHECK_FALSE(valid_text("\xC3", 10));
    CHECK_FALSE(valid_text("a\xC3", 10));
    CHECK_FALSE(valid_text("\xE2\x82", 10));
    CHECK_FALSE(valid_text("\xF0\x9F\x98", 10));
    CHECK_FALSE(valid_text("\xF0\x9F", 10));
    CHECK_FALSE(valid_text("\x80", 10));  // lone continuation byte
    CHECK_FALSE(
        valid_text("a\xBF"
                   "b",
                   10));
    CHECK_FALSE(
        valid_text("\xC3"
                   "a",
                   10));  // lead byte then ASCII
    CHECK_FALSE(
        valid_text("\xE2\x82"
                   "a",
                   10));
    CHECK_FALSE(valid_text("\xE2\x28\xA1", 10));
    // A sequence cut by the size limit is judged as bytes: the whole text must fit.
    CHECK_FALSE(valid_text("\xE2\x82\xAC", 2));
}

TEST_CASE("valid_text: control characters refused except newline and tab / DEL refused") {
    for (int c = 0; c < 0x20; ++c) {
        CAPTURE(c);
        bool allowed = c == '\n' || c == '\t';
        CHECK(valid_text(std::string("a") + static_cast<char>(c) + "b", 10) == allowed);
        CHECK(valid_text(std::string(1, static_cast<char>(c)), 10) == allowed);
    }
    CHECK_FALSE(
        valid_text("a\x7F"
                   "b",
                   10));
    CHECK_FALSE(valid_text("\r\n", 10));
    CHECK(valid_text("line1\nline2\tcol", 100));
    CHECK(valid_text("\n", 10));
    CHECK(valid_text(" ", 10));
    CHECK(valid_text("~", 10));
    CHECK_FALSE(valid_text(std::string("a\0b", 3), 10));
    // C1 controls (U+0080–U+009F) are not in the refused ranges the document names.
    CHECK(valid_text("\xC2\x85", 10));
}

// "Reserved nicks": names that would pass for the service itself, in any letter case.
TEST_CASE("reserved_nick: the documented list, case-insensitively") {
    for (const char* n : {"admin", "administrator", "broker", "chatbus", "nobody", "operator", "root",
                          "server", "system", "worker"}) {
        CAPTURE(n);
        CHECK(reserved_nick(n));
        std::string upper(n);
        for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
        CHECK(reserved_nick(upper));
    }
    CHECK(reserved_nick("BroKer"));
    CHECK_FALSE(reserved_nick("broker2"));
    CHECK_FALSE(reserved_nick("brokers"));
    CHECK_FALSE(reserved_nick("admi"));
    CHECK_FALSE(reserved_nick("alice"));
    CHECK_FALSE(reserved_nick(""));
}
