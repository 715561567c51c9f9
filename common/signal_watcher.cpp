#include "common/signal_watcher.hpp"

#include <pthread.h>
#include <signal.h>

#include <system_error>

namespace chatbus {

namespace {

sigset_t watched() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

void SignalWatcher::block_signals() {
    sigset_t set = watched();
    if (int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
        throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
    }
}

SignalWatcher::SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload)
    : on_stop_(std::move(on_stop)), on_reload_(std::move(on_reload)), thread_([this] { loop(); }) {}

SignalWatcher::~SignalWatcher() {
    done_.store(true);
    // Wake the thread with a signal it waits for; it is blocked everywhere, so it can only end up there.
    pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
}

void SignalWatcher::loop() {
    const sigset_t set = watched();
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (done_.load()) return;
        if (sig == SIGHUP) {
            if (on_reload_) on_reload_();
        } else if (on_stop_) {
            on_stop_();
        }
    }
}

}  // namespace chatbus
