#pragma once
// Signals without asynchronous handlers: SIGINT, SIGTERM and SIGHUP are blocked in every thread and one
// dedicated thread takes them with sigwait(), so the callbacks are ordinary code (they may log, parse a file,
// take locks). SIGINT/SIGTERM call on_stop, SIGHUP calls on_reload.
#include <atomic>
#include <functional>
#include <thread>

namespace chatbus {

class SignalWatcher {
  public:
    // Blocks the three signals in the calling thread; threads created afterwards (ZeroMQ's I/O threads,
    // spdlog's) inherit the mask. Call it first thing in main(), before any thread exists.
    static void block_signals();

    // Starts the watcher thread. block_signals() must have run in this thread already.
    SignalWatcher(std::function<void()> on_stop, std::function<void()> on_reload);
    // Ends the watcher thread; callbacks never run after it returns.
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

  private:
    void loop();

    std::function<void()> on_stop_, on_reload_;
    std::thread thread_;
    std::atomic<bool> done_{false};
};

}  // namespace chatbus
