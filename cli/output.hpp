#pragma once
// Everything chatctl prints goes through here, so human and --json output stay consistent: in JSON mode
// stdout carries exactly one JSON object per line; in human mode results go to stdout, errors and status
// notes to stderr. Every line is flushed, because listeners are read live by people and scripts.
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/messages.hpp"

namespace chatbus::cli {

// "14:05": the local time of `ts_ms` (milliseconds since the Unix epoch), as chat lines show it.
std::string clock_of(std::uint64_t ts_ms);

class Output {
  public:
    explicit Output(bool json);
    Output(bool json, std::ostream& out, std::ostream& err);

    bool json() const { return json_; }
    // `chat`'s human event and DM lines: the local time (HH:MM) in front, no sequence number.
    void set_chat_lines(bool on) { chat_lines_ = on; }

    // A command's result: the object `obj` with "ok":true put first in JSON mode, else the human lines.
    void result(const nlohmann::ordered_json& obj, std::string_view human);
    // A failure: `chatctl: MESSAGE (STATUS)` on stderr, or {"ok":false,...} on stdout.
    void error(std::string_view status, std::string_view message);
    // A human-only note on stderr (nothing in JSON mode).
    void note(std::string_view human);
    // A listener's status change (broker lost, back): the text on stderr, or {"type":"notice","text":..} on
    // stderr in JSON mode (stdout keeps only results and listener lines).
    void notice(std::string_view text);

    void event(const Event& e);
    void dm(const DmDeliver& d);
    void membership(const Membership& m);
    void ready(std::string_view nick, const std::vector<std::string>& rooms);
    // Events #from..#to of `room` never arrived on the events socket; `total` so far in this listener.
    void gap(std::string_view room, std::uint64_t from, std::uint64_t to, std::uint64_t total);
    // Human mode on a terminal: erases the last `rows` rows of stdout (the terminal's echo of a typed line
    // that the room's event for it replaces), leaving the cursor at the start of the top one.
    void erase_rows(std::size_t rows);

  private:
    void line(std::ostream& s, std::string_view text);
    void json_line(std::ostream& s, const nlohmann::ordered_json& obj);

    bool json_;
    bool chat_lines_ = false;
    std::ostream& out_;
    std::ostream& err_;
};

}  // namespace chatbus::cli
