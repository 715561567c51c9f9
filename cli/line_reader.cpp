#include "cli/line_reader.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

namespace chatbus::cli {

LineReader::Read LineReader::read(const std::function<bool(std::string)>& line) {
    char buf[4096];
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) return Read::more;
        spdlog::warn("reading input failed: {}", std::strerror(errno));
        n = 0;
    }
    if (n == 0) {
        if (!buf_.empty()) line(std::exchange(buf_, {}));
        return Read::ended;
    }
    buf_.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = buf_.find('\n')) != std::string::npos;) {
        std::string one = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line(std::move(one))) return Read::ended;
    }
    return Read::more;
}

}  // namespace chatbus::cli
