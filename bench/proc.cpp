#include "bench/proc.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bench {

std::string self_exe() {
    return std::filesystem::read_symlink("/proc/self/exe").string();
}

std::string bin_dir() {
    if (const char* d = std::getenv("CHATBUS_BIN_DIR"); d && *d) return d;
    return std::filesystem::path(self_exe()).parent_path().string();
}

Child spawn(const std::vector<std::string>& argv, bool capture_out,
            const std::vector<std::string>& extra_env) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (const auto& e : extra_env) env_store.push_back(e);
    std::vector<char*> env;
    for (auto& e : env_store) env.push_back(e.data());
    env.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int fds[2] = {-1, -1};
    if (capture_out) {
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
    }
    Child c;
    int rc = posix_spawn(&c.pid, args[0], &fa, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    if (capture_out) {
        close(fds[1]);
        c.out = fdopen(fds[0], "r");
    }
    return c;
}

int wait_child(Child& c, int timeout_ms) {
    if (c.pid <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    while (true) {
        pid_t r = waitpid(c.pid, &status, WNOHANG);
        if (r == c.pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(c.pid, SIGKILL);
            waitpid(c.pid, &status, 0);
            c.pid = -1;
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    c.pid = -1;
    if (c.out) {
        fclose(c.out);
        c.out = nullptr;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void stop_child(Child& c, int grace_ms) {
    if (c.pid <= 0) return;
    kill(c.pid, SIGTERM);
    wait_child(c, grace_ms);
}

bool read_line(Child& c, std::string& line) {
    line.clear();
    if (!c.out) return false;
    char buf[4096];
    if (!fgets(buf, sizeof buf, c.out)) return false;
    line = buf;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return true;
}

long rss_kib(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (f >> key) {
        if (key == "VmRSS:") {
            long v = 0;
            f >> v;
            return v;
        }
        std::string rest;
        std::getline(f, rest);
    }
    return 0;
}

double cpu_s(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // The command name is in parentheses and may hold spaces: count fields from the last ')'. utime and
    // stime are fields 14 and 15, the 12th and 13th after it.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::map<std::string, std::string> wait_ready_file(const std::string& path, Child& c, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!std::filesystem::exists(path)) {
        int status = 0;
        if (c.pid <= 0 || waitpid(c.pid, &status, WNOHANG) == c.pid) {
            c.pid = -1;
            throw std::runtime_error("child exited before writing " + path);
        }
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no " + path + " in time");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Written to a temporary file and renamed: once it exists it is whole.
    std::map<std::string, std::string> out;
    std::ifstream f(path);
    for (std::string line; std::getline(f, line);) {
        if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

long raise_fd_limit() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<long>(rl.rlim_cur);
}

}  // namespace bench
