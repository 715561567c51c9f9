#pragma once
// One function per chatctl command. Each prints its result or error through Output and returns the exit
// code; main.cpp only parses the command line.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "common/curve.hpp"
#include "cli/output.hpp"

namespace chatbus::cli {

inline constexpr const char* kDefaultBroker = "tcp://127.0.0.1:5555";

struct GlobalOptions {
    std::string broker = kDefaultBroker;
    std::optional<std::string> as;
    std::chrono::milliseconds timeout{3000};
    std::filesystem::path token_dir;  // empty: TokenStore::default_dir()
    // listen/chat: how long to keep trying to get a broker back that stopped answering (0: exit 5 at once).
    std::chrono::milliseconds reconnect{30000};
    CurveClientKeys curve;  // CURVE off unless --curve-key/--broker-key (or their variables) are given
};

// The CURVE keys from --curve-key/--broker-key, else $CHATBUS_CURVE_KEY/$CHATBUS_BROKER_KEY; none: off.
// Throws UsageError for a missing or bad key file, or only one of the two.
CurveClientKeys resolve_curve(const std::optional<std::string>& key_flag,
                              const std::optional<std::string>& broker_key_flag);

// --broker, else $CHATBUS_BROKER, else the default.
std::string resolve_broker(const std::optional<std::string>& flag);
// TEXT... as one text: "-" alone reads all of `in` minus one final newline; words are joined by spaces.
std::string text_from_words(const std::vector<std::string>& words, std::istream& in);

// "2d 3h 4m 5s", "4m 0s", "12s" (whole seconds).
std::string format_uptime(std::uint64_t ms);

// Runs `body`, turning exceptions into an error line and exit code (UsageError: 2, anything else: 1).
int guarded(Output& out, const std::function<int()>& body);

// The queries below on a given client, for `chat`, which runs them on its own. `one_line` puts a list on one
// human line ("lobby: alice, bob"); JSON output is the same either way.
enum class Layout { lines, one_line };
int print_who(Client& client, Output& out, const std::string& room, Layout layout);
int print_rooms(Client& client, Output& out, Layout layout);
int print_history(Client& client, Output& out, const std::string& room, std::uint64_t last,
                  std::uint64_t since);

int cmd_register(const GlobalOptions& g, Output& out, const std::string& nick);
int cmd_unregister(const GlobalOptions& g, Output& out);
int cmd_join(const GlobalOptions& g, Output& out, const std::string& room);
int cmd_leave(const GlobalOptions& g, Output& out, const std::string& room);
int cmd_send_room(const GlobalOptions& g, Output& out, const std::string& room, const std::string& text);
int cmd_send_dm(const GlobalOptions& g, Output& out, const std::string& to, const std::string& text);
int cmd_who(const GlobalOptions& g, Output& out, const std::string& room);
int cmd_rooms(const GlobalOptions& g, Output& out);
int cmd_history(const GlobalOptions& g, Output& out, const std::string& room, std::uint64_t last,
                std::uint64_t since);
int cmd_status(const GlobalOptions& g, Output& out);
int cmd_listen(const GlobalOptions& g, Output& out, std::optional<std::uint64_t> count,
               std::optional<std::chrono::milliseconds> duration);
// Writes DIR/NAME.key and DIR/NAME.pub (a new CURVE key pair); no broker is involved.
int cmd_keygen(Output& out, const std::string& name, const std::filesystem::path& dir);
int cmd_chat(const GlobalOptions& g, Output& out, const std::string& room);

}  // namespace chatbus::cli
