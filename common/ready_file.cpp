#include "common/ready_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <unistd.h>

namespace chatbus {

void write_ready_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string text;
    for (const auto& [k, v] : entries) text += k + "=" + v + "\n";
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    auto fail = [&](const char* what) {
        const std::string reason = std::strerror(errno);
        std::remove(tmp.c_str());
        throw std::runtime_error("ready file " + path + ": " + what + ": " + reason);
    };
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) fail("cannot create");
    const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !written) fail("cannot write");
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename");
}

}  // namespace chatbus
