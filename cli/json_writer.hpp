#pragma once
// A minimal JSON encoder: chatctl only ever writes flat objects with strings, integers, booleans and arrays,
// and no JSON library is available. Keys keep insertion order so output matches docs/chatctl.md.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatbus::cli {

// `s` as a JSON string literal, quotes included. Valid UTF-8 passes through unchanged; bytes that are not
// valid UTF-8 become U+FFFD so the output is always valid JSON whatever a peer sent.
std::string json_quote(std::string_view s);

class JsonArray {
  public:
    JsonArray& add(std::string_view s);
    JsonArray& add(const char* s) { return add(std::string_view(s)); }
    JsonArray& add(std::uint64_t v);
    JsonArray& add_raw(std::string_view json);  // an already-encoded value (e.g. a JsonObject's str())
    std::string str() const;

  private:
    std::vector<std::string> items_;
};

class JsonObject {
  public:
    JsonObject& add(std::string_view key, std::string_view value);
    // Without this overload a string literal would convert to bool rather than string_view.
    JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    JsonObject& add(std::string_view key, const std::string& value) {
        return add(key, std::string_view(value));
    }
    JsonObject& add(std::string_view key, std::uint64_t value);
    JsonObject& add(std::string_view key, bool value);
    JsonObject& add(std::string_view key, const std::vector<std::string>& values);
    JsonObject& add(std::string_view key, const JsonArray& value) { return add_raw(key, value.str()); }
    JsonObject& add(std::string_view key, const JsonObject& value) { return add_raw(key, value.str()); }
    JsonObject& add_raw(std::string_view key, std::string_view json);
    std::string str() const;

  private:
    std::string body_;
};

}  // namespace chatbus::cli
