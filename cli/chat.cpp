#include "cli/chat.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli/chat_input.hpp"
#include "cli/commands.hpp"
#include "cli/report.hpp"
#include "common/json_forms.hpp"

namespace chatbus::cli {
namespace {

std::size_t terminal_width() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

// Sends `req`; on failure prints its error line (the chat goes on) and returns false.
template <class Req>
bool ask(Client& client, Output& out, Req req, reply_of_t<Req>& reply) {
    auto o = client.request(std::move(req), reply);
    if (!o.ok()) report_failure(out, client, o);
    return o.ok();
}

}  // namespace

ChatSession::ChatSession(Client& client, Output& out, SavedNick me, int input_fd)
    : client_(client),
      out_(out),
      me_(std::move(me)),
      terminal_(!out.json() && input_fd >= 0 && ::isatty(input_fd) && ::isatty(STDOUT_FILENO)) {}

Outcome ChatSession::enter(const std::string& room) {
    JoinReply r;
    Outcome o = client_.request(Join{.nick = me_.nick, .token = me_.token, .room = room}, r);
    if (o.ok()) make_current(r.room.empty() ? room : r.room);
    return o;
}

void ChatSession::greet() {
    out_.note("talking in " + current_ + " (/help lists the commands)");
}

void ChatSession::make_current(const std::string& room) {
    std::erase(entered_, room);
    entered_.push_back(room);
    current_ = room;
}

bool ChatSession::have_current() {
    if (!current_.empty()) return true;
    out_.error("usage", "you are in no room: /join ROOM first");
    return false;
}

bool ChatSession::handle(std::string_view line) {
    using K = ChatLine::Kind;
    ChatLine c = parse_chat_line(line);
    switch (c.kind) {
        case K::none:
            break;
        case K::quit:
            return false;
        case K::error:
            out_.error("usage", c.error);
            break;
        case K::help: {
            std::string human;
            for (const auto& l : chat_help()) human += (human.empty() ? "" : "\n") + l;
            out_.result(nlohmann::ordered_json{{"commands", chat_help()}}, human);
            break;
        }
        case K::say:
        case K::action:
            if (have_current()) post(c.text, line);
            break;
        case K::msg:
            dm(c.target, c.text);
            break;
        case K::join:
            join(c.target);
            break;
        case K::leave:
            if (!c.target.empty() || have_current()) leave(c.target.empty() ? current_ : c.target);
            break;
        case K::who:
            if (!c.target.empty() || have_current()) {
                print_who(client_, out_, c.target.empty() ? current_ : c.target, Layout::one_line);
            }
            break;
        case K::rooms:
            print_rooms(client_, out_, Layout::one_line);
            break;
        case K::history:
            if (have_current()) print_history(client_, out_, current_, c.count, 0);
            break;
    }
    return true;
}

void ChatSession::post(const std::string& text, std::string_view typed) {
    SendReply r;
    if (!ask(client_, out_, Send{.nick = me_.nick, .token = me_.token, .room = current_, .texts = {text}}, r))
        return;
    // The room's event for it is what shows the line (with its time, in order with the others): nothing
    // was printed since the echo, which is the last thing on the terminal.
    if (terminal_) out_.erase_rows(echo_rows(typed, terminal_width()));
}

void ChatSession::dm(const std::string& to, const std::string& text) {
    DmReply r;
    if (!ask(client_, out_, Dm{.nick = me_.nick, .token = me_.token, .to = to, .text = text}, r)) return;
    out_.result(dm_reply_json(r), "");
    out_.note("[dm #" + std::to_string(r.id) + " to " + r.to + "] " + (r.delivered ? "delivered" : "queued"));
}

void ChatSession::join(const std::string& room) {
    JoinReply r;
    if (!ask(client_, out_, Join{.nick = me_.nick, .token = me_.token, .room = room}, r)) return;
    make_current(r.room.empty() ? room : r.room);
    out_.result(join_reply_json(r), "");
    out_.note("talking in " + current_);
}

void ChatSession::leave(const std::string& room) {
    LeaveReply r;
    if (!ask(client_, out_, Leave{.nick = me_.nick, .token = me_.token, .room = room}, r)) return;
    if (r.room.empty()) r.room = room;
    const std::string& left = r.room;
    std::erase(entered_, left);
    if (left == current_) current_ = entered_.empty() ? std::string() : entered_.back();
    out_.result(leave_reply_json(r), "");
    out_.note("left " + left +
              (current_.empty() ? "; in no room now (/join ROOM)" : "; talking in " + current_));
}

}  // namespace chatbus::cli
