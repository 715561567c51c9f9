#pragma once
// `chatctl chat`'s input side: carries out typed lines (chat_input.hpp) for one nick over the listener's
// Client, keeping the current room that plain lines and /me go to. The listener (listener.hpp) shows the
// rooms; it hands every input line here.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/client.hpp"
#include "cli/output.hpp"
#include "cli/token_store.hpp"

namespace chatbus::cli {

// Events of a room shown on entering it (at start and on /join), before what comes live.
inline constexpr std::uint64_t kChatRecent = 10;

class ChatSession {
  public:
    // `input_fd`: where lines come from; when it and stdout are a terminal (and output is human), the
    // terminal's echo of a posted line is erased once posted, since the room's event shows it.
    ChatSession(Client& client, Output& out, SavedNick me, int input_fd);

    // JOINs `room` (fine if already a member) and makes it current. Prints nothing: set-up reports failures.
    Outcome enter(const std::string& room);
    // Says which room is current and how to get help (human mode).
    void greet();
    // Carries out one line; false once the chat should end (/quit).
    bool handle(std::string_view line);
    // The folded name of the current room; empty when in none (after /leave of the last one).
    const std::string& current() const { return current_; }

  private:
    void post(const std::string& text, std::string_view typed);
    void dm(const std::string& to, const std::string& text);
    void join(const std::string& room);
    void leave(const std::string& room);
    // The current room, or an error line and false when there is none.
    bool have_current();
    void make_current(const std::string& room);

    Client& client_;
    Output& out_;
    SavedNick me_;
    bool terminal_ = false;
    std::string current_;
    std::vector<std::string> entered_;  // rooms entered in this chat, the current one last
};

}  // namespace chatbus::cli
