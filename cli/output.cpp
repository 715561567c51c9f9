#include "cli/output.hpp"

#include <ctime>
#include <iostream>

#include "cli/chat_input.hpp"
#include "common/event_kind.hpp"

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

void Output::result(const JsonObject& obj, std::string_view human) {
    if (json_) {
        std::string body = obj.str();
        // obj is "{...}": splice "ok":true in front of its fields.
        line(out_, body == "{}" ? std::string(R"({"ok":true})") : R"({"ok":true,)" + body.substr(1));
    } else if (!human.empty()) {
        line(out_, human);
    }
}

void Output::error(std::string_view status, std::string_view message) {
    if (json_) {
        line(out_, JsonObject().add("ok", false).add("status", status).add("error", message).str());
    } else {
        line(err_, "chatctl: " + std::string(message) + " (" + std::string(status) + ")");
    }
}

void Output::note(std::string_view human) {
    if (!json_) line(err_, human);
}

void Output::notice(std::string_view text) {
    if (json_) {
        line(err_, JsonObject().add("type", "notice").add("text", text).str());
    } else {
        line(err_, "chatctl: " + std::string(text));
    }
}

void Output::event(const Event& e) {
    if (json_) {
        line(out_, JsonObject()
                       .add("type", "event")
                       .add("room", e.room)
                       .add("seq", e.seq)
                       .add("kind", e.kind)
                       .add("nick", e.nick)
                       .add("text", e.text)
                       .add("ts", e.ts)
                       .str());
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
        line(out_, JsonObject()
                       .add("type", "dm")
                       .add("id", d.id)
                       .add("from", d.from)
                       .add("to", d.to)
                       .add("text", d.text)
                       .add("ts", d.ts)
                       .str());
        return;
    }
    line(out_, (chat_lines_ ? clock_of(d.ts) + " " : std::string()) + "[dm #" + std::to_string(d.id) +
                   " from " + d.from + "] " + d.text);
}

void Output::membership(const Membership& m) {
    if (json_) {
        line(out_, JsonObject()
                       .add("type", "membership")
                       .add("room", m.room)
                       .add("joined", m.joined)
                       .add("seq", m.seq)
                       .str());
        return;
    }
    line(err_, (m.joined ? "now following " : "no longer following ") + m.room);
}

void Output::gap(std::string_view room, std::uint64_t from, std::uint64_t to, std::uint64_t total) {
    if (json_) {
        line(out_, JsonObject()
                       .add("type", "gap")
                       .add("room", room)
                       .add("from", from)
                       .add("to", to)
                       .add("missed", to - from + 1)
                       .add("total", total)
                       .str());
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
        line(out_, JsonObject().add("type", "ready").add("nick", nick).add("rooms", rooms).str());
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
