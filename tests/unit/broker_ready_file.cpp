// The ready file (--ready-file): written whole or not at all, and naming the endpoints a broker bound on
// port 0.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "broker/broker.hpp"
#include "common/ready_file.hpp"
#include "tests/unit/running.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace chatbus;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

std::map<std::string, std::string> fields(const std::string& text) {
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return out;
}

}  // namespace

TEST_CASE("ready file: key=value lines, replaced whole, no temporary file left") {
    TempDir dir;
    const fs::path p = dir.path / "ready";
    write_ready_file(p.string(), {{"client", "tcp://127.0.0.1:1"}, {"events", "tcp://127.0.0.1:2"}});
    CHECK(slurp(p) == "client=tcp://127.0.0.1:1\nevents=tcp://127.0.0.1:2\n");
    write_ready_file(p.string(), {{"client", "tcp://127.0.0.1:3"}});
    CHECK(slurp(p) == "client=tcp://127.0.0.1:3\n");
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("ready file: a directory that does not exist is an error naming the file") {
    TempDir dir;
    const std::string p = (dir.path / "missing" / "ready").string();
    CHECK_THROWS_WITH_AS(write_ready_file(p, {{"client", "x"}}), doctest::Contains(p.c_str()), std::runtime_error);
}

TEST_CASE("a broker on port 0 names the endpoints it bound in its ready file once it runs") {
    TempDir dir;
    BrokerConfig cfg;
    cfg.client = cfg.worker = cfg.events = "tcp://127.0.0.1:0";
    cfg.ready_file = (dir.path / "broker.ready").string();
    Running<Broker> b(cfg);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(cfg.ready_file) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    REQUIRE(fs::exists(cfg.ready_file));
    auto f = fields(slurp(cfg.ready_file));
    const auto& ep = b.server.endpoints();
    CHECK(f["client"] == ep.client);
    CHECK(f["worker"] == ep.worker);
    CHECK(f["events"] == ep.events);
    CHECK(f["pid"] == std::to_string(::getpid()));
    CHECK(f["boot"].size() == 16);
    for (const auto& e : {ep.client, ep.worker, ep.events}) {
        CHECK(e.rfind("tcp://127.0.0.1:", 0) == 0);
        CHECK(e != "tcp://127.0.0.1:0");
    }
}
