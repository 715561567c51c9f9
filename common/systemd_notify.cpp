#include "systemd_notify.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <systemd/sd-daemon.h>

namespace chatbus::systemd {

namespace {

void notify(const std::string& state) {
    // sd_notify() returns 0 without doing anything when NOTIFY_SOCKET is unset; a failure to reach systemd
    // must never stop the service, so the result is deliberately ignored.
    if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
    (void)sd_notify(0, state.c_str());
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
