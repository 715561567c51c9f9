#include <doctest/doctest.h>

#include <string>

#include "cli/json_writer.hpp"

using chatbus::cli::json_quote;
using chatbus::cli::JsonArray;
using chatbus::cli::JsonObject;

TEST_CASE("json_quote escapes quotes and backslashes") {
    CHECK(json_quote("") == R"("")");
    CHECK(json_quote("plain") == R"("plain")");
    CHECK(json_quote(R"(say "hi")") == R"("say \"hi\"")");
    CHECK(json_quote(R"(C:\path\)") == R"("C:\\path\\")");
}

TEST_CASE("json_quote escapes every control character") {
    CHECK(json_quote("a\nb\tc\rd") == R"("a\nb\tc\rd")");
    CHECK(json_quote("\b\f") == R"("\b\f")");
    CHECK(json_quote(std::string("\0x", 2)) == R"("\u0000x")");
    CHECK(json_quote("\x01\x1f") == R"("\u0001\u001f")");
    CHECK(json_quote("\x7f") == R"("\u007f")");
    for (int c = 0; c < 0x20; ++c) {
        std::string q = json_quote(std::string(1, static_cast<char>(c)));
        CAPTURE(c);
        CHECK(q.size() > 3);
        CHECK(q[1] == '\\');
    }
}

TEST_CASE("json_quote passes valid UTF-8 through and replaces invalid bytes") {
    CHECK(json_quote("héllo") == "\"héllo\"");
    CHECK(json_quote("日本語") == "\"日本語\"");
    CHECK(json_quote("\xF0\x9F\x98\x80") == "\"\xF0\x9F\x98\x80\"");  // U+1F600, 4 bytes
    CHECK(json_quote("a\xFFz") == R"("a\ufffdz")");
    CHECK(json_quote("\xC3") == R"("\ufffd")");                      // truncated sequence
    CHECK(json_quote("\xC0\xAF") == R"("\ufffd\ufffd")");            // overlong '/'
    CHECK(json_quote("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");  // UTF-16 surrogate
}

TEST_CASE("JsonObject keeps key order and types") {
    JsonObject o;
    o.add("type", "event").add("seq", std::uint64_t{42}).add("joined", true).add("text", std::string("a\"b"));
    CHECK(o.str() == R"({"type":"event","seq":42,"joined":true,"text":"a\"b"})");
    CHECK(JsonObject().str() == "{}");
    CHECK(JsonObject().add("members", std::vector<std::string>{"al\\ice", "bob"}).str() ==
          R"({"members":["al\\ice","bob"]})");
    CHECK(JsonObject().add("rooms", std::vector<std::string>{}).str() == R"({"rooms":[]})");
    JsonArray a;
    a.add_raw(JsonObject().add("room", "lobby").add("members", std::uint64_t{2}).str())
        .add("x")
        .add(std::uint64_t{7});
    CHECK(JsonObject().add("rooms", a).add("nested", JsonObject().add("k", false)).str() ==
          R"({"rooms":[{"room":"lobby","members":2},"x",7],"nested":{"k":false}})");
}
