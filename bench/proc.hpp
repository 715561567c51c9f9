#pragma once
// Child processes (the real binaries, or this one in a hidden mode), /proc readings, ready files.
#include <sys/types.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace bench {

// The directory binaries are taken from: $CHATBUS_BIN_DIR, else the one this executable is in.
std::string bin_dir();
std::string self_exe();

struct Child {
    pid_t pid = -1;
    FILE* out = nullptr;  // the child's stdout when captured
};
// stdout of the child is captured when capture_out; otherwise inherited. Extra env entries are "K=V".
Child spawn(const std::vector<std::string>& argv, bool capture_out = false,
            const std::vector<std::string>& extra_env = {});
// Waits up to timeout_ms; on timeout kills it. Returns the exit status (or -1 when killed / abnormal).
int wait_child(Child& c, int timeout_ms);
// SIGTERM, then SIGKILL after grace_ms.
void stop_child(Child& c, int grace_ms = 3000);
// Reads a line of the child's stdout (without the newline); false on EOF.
bool read_line(Child& c, std::string& line);

// VmRSS of a process in KiB (0 when unreadable).
long rss_kib(pid_t pid);
// User + system CPU time a process has used, in seconds (0 when unreadable).
double cpu_s(pid_t pid);
// The key=value lines of the ready file a child writes once it has bound its ports (chatbus-broker
// --ready-file): the endpoints the system chose for it. Waits up to timeout_ms; throws if the child exits first
// or the time runs out.
std::map<std::string, std::string> wait_ready_file(const std::string& path, Child& c, int timeout_ms);
// Raises the soft fd limit to the hard one; returns the new soft limit.
long raise_fd_limit();

}  // namespace bench
