// chatctl: parses the command line and hands over to one command function (commands.hpp).
#include <cmath>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "common/logging.hpp"
#include "cli/output.hpp"
#include "common/version.hpp"

using namespace chatbus::cli;

int main(int argc, char** argv) {
    CLI::App app{"chatctl: command-line client for chatbus (see docs/chatctl.md)", "chatctl"};
    std::optional<std::string> broker;
    std::optional<std::string> as;
    bool json = false;
    double timeout_s = 3.0;
    std::string log_level = "warn";
    app.add_option("--broker", broker,
                   "broker client endpoint (default: $CHATBUS_BROKER, else tcp://127.0.0.1:5555)");
    app.add_option("--as", as, "the saved nick to act as (case-insensitive); needed when several are saved");
    app.add_flag("--json", json, "one JSON object per line on stdout");
    app.add_option("--timeout", timeout_s, "seconds to wait for each answer (default 3)")
        ->check(CLI::PositiveNumber);
    std::optional<std::string> curve_key, broker_key;
    app.add_option("--curve-key", curve_key,
                   "own CURVE key pair file (chatctl keygen); with --broker-key turns CURVE on (default: "
                   "$CHATBUS_CURVE_KEY)");
    app.add_option("--broker-key", broker_key,
                   "the broker's CURVE public key file (default: $CHATBUS_BROKER_KEY)");
    app.add_option("--log-level", log_level,
                   "diagnostics on stderr: trace, debug, info, warn, error, critical, off");
    app.set_version_flag("--version", chatbus::version_line("chatctl"));
    app.require_subcommand(1);
    app.fallthrough();

    std::string nick, room, to;
    std::vector<std::string> words;
    std::optional<std::uint64_t> count;
    std::optional<double> for_s;
    double reconnect_s = 30.0;
    const char* reconnect_help =
        "after the broker stops answering, keep trying for SECONDS before exiting 5 (default 30; 0: at once)";
    std::uint64_t last = 0, since = 0;

    auto* reg = app.add_subcommand("register", "claim a nick and save its token");
    reg->add_option("NICK", nick, "the nick")->required();
    auto* unreg = app.add_subcommand("unregister", "release the nick and delete its saved token");
    auto* join = app.add_subcommand("join", "join a room (created if needed)");
    join->add_option("ROOM", room, "the room")->required();
    auto* leave = app.add_subcommand("leave", "leave a room");
    leave->add_option("ROOM", room, "the room")->required();
    auto* send = app.add_subcommand("send", "post to a room (--room) or send a direct message (--to)");
    auto* room_opt = send->add_option("--room", room, "the room to post to");
    auto* to_opt = send->add_option("--to", to, "the nick to send a direct message to");
    room_opt->excludes(to_opt);
    send->add_option("TEXT", words, "the text; several words are joined with spaces, - reads stdin")
        ->required();
    auto* listen =
        app.add_subcommand("listen", "print room events of joined rooms and direct messages, live");
    listen->add_option("--count", count, "exit after N events and messages")->check(CLI::PositiveNumber);
    listen->add_option("--for", for_s, "exit after SECONDS")->check(CLI::PositiveNumber);
    listen->add_option("--reconnect", reconnect_s, reconnect_help)->check(CLI::NonNegativeNumber);
    auto* who = app.add_subcommand("who", "list the members of a room");
    who->add_option("ROOM", room, "the room")->required();
    auto* rooms = app.add_subcommand("rooms", "list rooms with members");
    auto* history = app.add_subcommand("history", "print the events a room keeps");
    history->add_option("ROOM", room, "the room")->required();
    history->add_option("--last", last, "only the last N events");
    history->add_option("--since", since, "only events after sequence number SEQ");
    auto* status = app.add_subcommand("status", "broker statistics, workers and drop counters");
    std::string key_dir = ".";
    auto* keygen = app.add_subcommand("keygen", "write a new CURVE key pair to DIR/NAME.key and DIR/NAME.pub");
    keygen->add_option("NAME", nick, "the key's name (file name without extension)")->required();
    keygen->add_option("--dir", key_dir, "where to write the files (default: the current directory)");
    auto* chat = app.add_subcommand("chat", "interactive: join ROOM, show it live, send typed lines");
    chat->add_option("ROOM", room, "the room")->required();
    chat->add_option("--reconnect", reconnect_s, reconnect_help)->check(CLI::NonNegativeNumber);

    try {
        app.parse(argc, argv);
        if (*send && room_opt->count() == 0 && to_opt->count() == 0) {
            throw CLI::ValidationError("send", "one of --room ROOM or --to NICK is required");
        }
        if (!chatbus::valid_log_level(log_level)) {
            throw CLI::ValidationError("--log-level", "unknown level '" + log_level + "'");
        }
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        Output(json).error("usage", std::string(e.what()) + " (see chatctl --help)");
        return kExitUsage;
    }
    chatbus::setup_logging(log_level, "chatctl");

    GlobalOptions g;
    g.broker = resolve_broker(broker);
    g.as = as;
    g.timeout = std::chrono::milliseconds(std::max<long long>(1, std::llround(timeout_s * 1000.0)));
    g.reconnect = std::chrono::milliseconds(std::llround(reconnect_s * 1000.0));
    Output out(json);

    return guarded(out, [&]() -> int {
        if (*keygen) return cmd_keygen(out, nick, key_dir);
        g.curve = resolve_curve(curve_key, broker_key);
        if (*reg) return cmd_register(g, out, nick);
        if (*unreg) return cmd_unregister(g, out);
        if (*join) return cmd_join(g, out, room);
        if (*leave) return cmd_leave(g, out, room);
        if (*send) {
            std::string text = text_from_words(words, std::cin);
            return room_opt->count() ? cmd_send_room(g, out, room, text) : cmd_send_dm(g, out, to, text);
        }
        if (*listen) {
            std::optional<std::chrono::milliseconds> duration;
            if (for_s) duration = std::chrono::milliseconds(std::llround(*for_s * 1000.0));
            return cmd_listen(g, out, count, duration);
        }
        if (*who) return cmd_who(g, out, room);
        if (*rooms) return cmd_rooms(g, out);
        if (*history) return cmd_history(g, out, room, last, since);
        if (*status) return cmd_status(g, out);
        if (*chat) return cmd_chat(g, out, room);
        return kExitUsage;
    });
}
