#pragma once
// What a line typed into `chatctl chat` asks for (docs/chatctl.md, "chat"). Parsed without sockets, so every
// command and each of its usage errors is unit-tested; ChatSession (chat.hpp) carries them out.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatbus::cli {

// A room message whose text starts with this is an action: "/me waves" from alice shows as "* alice waves".
// A convention on the text rather than a protocol field, so that a client that does not know it still shows
// something readable (docs/protocol.md, "Actions").
inline constexpr std::string_view kActionPrefix = "/me ";
// "waves" for "/me waves"; nullopt for a text that is not an action.
std::optional<std::string_view> action_of(std::string_view text);

// /history without N shows this many events; N may be at most kChatHistoryMax.
inline constexpr std::uint64_t kChatHistoryDefault = 20;
inline constexpr std::uint64_t kChatHistoryMax = 1000;

struct ChatLine {
    enum class Kind { none, say, action, msg, join, leave, who, rooms, history, help, quit, error };
    Kind kind = Kind::none;
    // say, action: the text to post (action: with kActionPrefix); msg: the text of the DM.
    std::string text;
    // msg: the nick; join: the room; leave, who: the room, empty for the current one.
    std::string target;
    std::uint64_t count = 0;  // history: how many events
    std::string error;        // error: a one-line message for the user
};

// One input line, without its newline (a trailing '\r' is ignored). Empty lines are `none`. A line starting
// with "//" is said with its first '/' removed; any other line starting with '/' is a command, whose name is
// matched case-insensitively.
ChatLine parse_chat_line(std::string_view line);

// /help: one line per command.
const std::vector<std::string>& chat_help();

// How many terminal rows the echo of a typed line took at `width` columns (at least 1): what to erase when
// the room's own event for it replaces it. Counts code points, not bytes (wide characters are not measured).
std::size_t echo_rows(std::string_view typed, std::size_t width);

}  // namespace chatbus::cli
