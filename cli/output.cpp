#include "cli/output.hpp"

#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/chat_input.hpp"
#include "common/event_kind.hpp"
#include "common/json_forms.hpp"

namespace chatbus::cli {

std::string clock_of(std::uint64_t ts_ms) {
    const auto t = static_cast<std::time_t>(ts_ms / 1000);
    std::tm tm{};
    char buf[8] = "--:--";
    if (::localtime_r(&t, &tm)) std::strftime(buf, sizeof buf, "%H:%M", &tm);
    return buf;
}

Output::Output(bool json) : Output(json, std::cout, std::cerr) {}
Output::Output(bool json, std::ostream& out, std::ostream& err) : json_(json), out_(out), err_(err) {}

void Output::line(std::ostream& s, std::string_view text) {
    s << text << '\n';
    s.flush();
}

void Output::json_line(std::ostream& s, const nlohmann::ordered_json& obj) {
    line(s, json_text(obj));
}

void Output::result(const nlohmann::ordered_json& obj, std::string_view human) {
    if (json_) {
        nlohmann::ordered_json with_ok = {{"ok", true}};
        for (const auto& field : obj.items()) with_ok[field.key()] = field.value();
        json_line(out_, with_ok);
    } else if (!human.empty()) {
        line(out_, human);
    }
}

void Output::error(std::string_view status, std::string_view message) {
    if (json_) {
        json_line(out_, nlohmann::ordered_json{{"ok", false}, {"status", status}, {"error", message}});
    } else {
        line(err_, "chatctl: " + std::string(message) + " (" + std::string(status) + ")");
    }
}

void Output::note(std::string_view human) {
    if (!json_) line(err_, human);
}

void Output::notice(std::string_view text) {
    if (json_) {
        json_line(err_, nlohmann::ordered_json{{"type", "notice"}, {"text", text}});
    } else {
        line(err_, "chatctl: " + std::string(text));
    }
}

void Output::event(const Event& e) {
    if (json_) {
        json_line(out_, event_json(e));
        return;
    }
    std::string head = chat_lines_ ? clock_of(e.ts) + " [" + e.room + "] "
                                   : "[" + e.room + " #" + std::to_string(e.seq) + "] ";
    if (e.kind == event_kind::message) {
        auto action = action_of(e.text);
        line(out_, head + (action ? "* " + e.nick + " " + std::string(*action) : e.nick + ": " + e.text));
    } else if (e.kind == event_kind::join) {
        line(out_, head + "* " + e.nick + " joined");
    } else if (e.kind == event_kind::leave) {
        line(out_, head + "* " + e.nick + " left");
    } else {
        line(out_, head + "* " + e.nick + " " + e.kind);
    }
}

void Output::dm(const DmDeliver& d) {
    if (json_) {
        json_line(out_, dm_json(d));
        return;
    }
    line(out_, (chat_lines_ ? clock_of(d.ts) + " " : std::string()) + "[dm #" + std::to_string(d.id) +
                   " from " + d.from + "] " + d.text);
}

void Output::membership(const Membership& m) {
    if (json_) {
        json_line(out_, membership_json(m));
        return;
    }
    line(err_, (m.joined ? "now following " : "no longer following ") + m.room);
}

void Output::gap(std::string_view room, std::uint64_t from, std::uint64_t to, std::uint64_t total) {
    if (json_) {
        json_line(out_, nlohmann::ordered_json{{"type", "gap"},
                                               {"room", room},
                                               {"from", from},
                                               {"to", to},
                                               {"missed", to - from + 1},
                                               {"total", total}});
        return;
    }
    line(err_, "[" + std::string(room) + "] events #" + std::to_string(from) + "-#" + std::to_string(to) +
                   " were dropped on the way (this listener fell behind); " + std::to_string(total) +
                   " so far");
}

void Output::erase_rows(std::size_t rows) {
    if (json_ || rows == 0) return;
    std::string seq;
    for (std::size_t i = 0; i < rows; ++i) seq += "\x1b[A\x1b[2K";  // cursor up, erase that row
    out_ << seq << '\r';
    out_.flush();
}

void Output::ready(std::string_view nick, const std::vector<std::string>& rooms) {
    if (json_) {
        json_line(out_, nlohmann::ordered_json{{"type", "ready"}, {"nick", nick}, {"rooms", rooms}});
        return;
    }
    std::string text = "listening as " + std::string(nick);
    if (rooms.empty()) {
        text += " (in no room yet)";
    } else {
        text += " in ";
        for (std::size_t i = 0; i < rooms.size(); ++i) text += (i ? ", " : "") + rooms[i];
    }
    line(err_, text);
}

}  // namespace chatbus::cli
