#pragma once
// Talking to systemd when it runs us as a service (Type=notify): readiness, reloads, shutdown, and whether
// stderr goes to the journal. Every call is a no-op when not under systemd (NOTIFY_SOCKET / JOURNAL_STREAM
// unset), so the binaries behave the same from a shell, a test or a unit.
#include <string_view>

namespace chatbus::systemd {

// READY=1 with a one-line STATUS= shown by `systemctl status`. Call once the sockets are bound (broker) or
// the loop is about to start (worker); systemd holds `systemctl start` until then.
void notify_ready(std::string_view status);
// RELOADING=1 before re-reading the configuration; follow with notify_ready() when done.
void notify_reloading();
// STOPPING=1 when shutdown begins.
void notify_stopping();
// True when stderr is the journal's stream (JOURNAL_STREAM names stderr's device and inode), so log lines
// need no timestamp and no colours, and may carry a <N> syslog priority prefix.
bool stderr_is_journal();

}  // namespace chatbus::systemd
