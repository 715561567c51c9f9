#pragma once
// A Broker or Worker running its loop on a thread for the length of a test: bound (if it binds) before the
// constructor returns, stopped and joined on destruction even when a REQUIRE fails midway.
#include <thread>
#include <utility>

template <class Server>
struct Running {
    Server server;
    std::thread thread;
    template <class Cfg>
    explicit Running(Cfg cfg) : server(std::move(cfg)) {
        if constexpr (requires { server.bind(); }) server.bind();
        thread = std::thread([this] { server.run(); });
    }
    ~Running() {
        server.stop();
        thread.join();
    }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
};
