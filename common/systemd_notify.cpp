#include "common/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace chatbus::systemd {

namespace {

// The notification protocol of sd_notify(3), which systemd documents as stable and meant to be reimplemented:
// one datagram with the state lines to the AF_UNIX socket named by NOTIFY_SOCKET (a path, or an abstract
// name written with a leading '@'). Done by hand so that no binary loads libsystemd and the six libraries it
// pulls in: chatctl starts as a fresh process for every command, and loading them cost ~0.7 ms of it.
// A failure to reach systemd must never stop the service, so every error is ignored.
void notify(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr) return;
    std::size_t len = std::strlen(path);
    sockaddr_un addr{};
    if ((path[0] != '/' && path[0] != '@') || len < 2 || len >= sizeof(addr.sun_path)) return;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    (void)sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr),
                 addr_len);
    close(fd);
}

}  // namespace

void notify_ready(std::string_view status) {
    notify("READY=1\nSTATUS=" + std::string(status));
}

void notify_reloading() {
    notify("RELOADING=1\nSTATUS=reloading configuration");
}

void notify_stopping() {
    notify("STOPPING=1\nSTATUS=stopping");
}

bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (env == nullptr || *env == '\0') return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(2, &st) != 0) return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace chatbus::systemd
