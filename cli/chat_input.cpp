#include "cli/chat_input.hpp"

#include <algorithm>
#include <charconv>

namespace chatbus::cli {
namespace {

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(' ');
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// The first word of `s` and the rest after the spaces that follow it.
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    s = trim(s);
    const auto sp = s.find(' ');
    if (sp == std::string_view::npos) return {s, {}};
    return {s.substr(0, sp), trim(s.substr(sp + 1))};
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
    return out;
}

ChatLine error(std::string message) {
    return ChatLine{.kind = ChatLine::Kind::error, .error = std::move(message)};
}

// A room argument: one word (names have no spaces), or none when `optional`.
ChatLine with_room(ChatLine::Kind kind, std::string_view rest, bool optional, std::string_view usage) {
    auto [room, extra] = split_word(rest);
    if ((!optional && room.empty()) || !extra.empty()) return error("usage: " + std::string(usage));
    return ChatLine{.kind = kind, .target = std::string(room)};
}

}  // namespace

std::optional<std::string_view> action_of(std::string_view text) {
    if (!text.starts_with(kActionPrefix)) return std::nullopt;
    return text.substr(kActionPrefix.size());
}

ChatLine parse_chat_line(std::string_view line) {
    using K = ChatLine::Kind;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) return {};
    if (line.starts_with("//")) return ChatLine{.kind = K::say, .text = std::string(line.substr(1))};
    if (!line.starts_with('/')) return ChatLine{.kind = K::say, .text = std::string(line)};

    auto [word, rest] = split_word(line.substr(1));
    const std::string name = lower(word);
    if (name == "quit" || name == "help" || name == "rooms") {
        if (!rest.empty()) return error("usage: /" + name + " (takes no arguments)");
        return ChatLine{.kind = name == "quit" ? K::quit : name == "help" ? K::help : K::rooms};
    }
    if (name == "join") return with_room(K::join, rest, false, "/join ROOM");
    if (name == "leave") return with_room(K::leave, rest, true, "/leave [ROOM]");
    if (name == "who") return with_room(K::who, rest, true, "/who [ROOM]");
    if (name == "me") {
        if (rest.empty()) return error("usage: /me ACTION");
        return ChatLine{.kind = K::action, .text = std::string(kActionPrefix) + std::string(rest)};
    }
    if (name == "msg") {
        auto [to, text] = split_word(rest);
        if (to.empty() || text.empty()) return error("usage: /msg NICK TEXT");
        return ChatLine{.kind = K::msg, .text = std::string(text), .target = std::string(to)};
    }
    if (name == "history") {
        if (rest.empty()) return ChatLine{.kind = K::history, .count = kChatHistoryDefault};
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
        if (ec != std::errc() || end != rest.data() + rest.size() || n == 0 || n > kChatHistoryMax) {
            return error("usage: /history [N] (N from 1 to " + std::to_string(kChatHistoryMax) + ")");
        }
        return ChatLine{.kind = K::history, .count = n};
    }
    return error("unknown command /" + std::string(word) +
                 " (/help lists the commands; // starts a line with /)");
}

const std::vector<std::string>& chat_help() {
    static const std::vector<std::string> lines = {
        "TEXT             post TEXT to the current room (//TEXT posts /TEXT)",
        "/me ACTION       post an action: * NICK ACTION",
        "/msg NICK TEXT   send NICK a direct message",
        "/join ROOM       join ROOM (created if needed) and make it the current room",
        "/leave [ROOM]    leave ROOM (default: the current room); the room entered before becomes current",
        "/who [ROOM]      the members of ROOM (default: the current room)",
        "/rooms           every room with members",
        "/history [N]     the last N events of the current room (default " +
            std::to_string(kChatHistoryDefault) + ")",
        "/help            this list",
        "/quit            end the chat (you stay in your rooms); so does end of input or Ctrl-C",
    };
    return lines;
}

std::size_t echo_rows(std::string_view typed, std::size_t width) {
    if (width == 0) return 1;
    // Continuation bytes (10xxxxxx) do not start a code point.
    const auto points = static_cast<std::size_t>(std::count_if(
        typed.begin(), typed.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    return points == 0 ? 1 : (points - 1) / width + 1;
}

}  // namespace chatbus::cli
