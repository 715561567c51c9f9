#pragma once
// `chatctl chat`'s input, read between socket events: whatever a readable fd has is split into lines as it
// comes, so a line typed slowly or piped in large blocks is handed on whole and nothing waits on the reader.
#include <functional>
#include <string>

namespace chatbus::cli {

class LineReader {
  public:
    explicit LineReader(int fd) : fd_(fd) {}

    enum class Read { more, ended };
    // One read of the fd (poll it first: it may block otherwise), then each complete line, without its
    // '\n', to `line` while it returns true. At EOF or a read error the unterminated rest goes too. `ended`
    // once the input is over or `line` returned false.
    Read read(const std::function<bool(std::string)>& line);

  private:
    int fd_;
    std::string buf_;  // what came after the last '\n'
};

}  // namespace chatbus::cli
