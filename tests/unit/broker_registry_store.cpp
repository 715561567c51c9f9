// Registrations on disk: what survives a restart, a crash in the middle of a write, and a compaction.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/msgpack_config.hpp"
#include "broker/registry_store.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace chatbus;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> nicks_of(const RegistryStore& s) {
    std::vector<std::string> out;
    for (const auto& n : s.loaded()) out.push_back(n.nick);
    return out;
}

}  // namespace

TEST_CASE("registrations and unregistrations are replayed in order after a restart") {
    TempDir dir("chatbus-store");
    TokenHash h1 = hash_token("one"), h2 = hash_token("two");
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::always);
        CHECK(s.loaded().empty());
        s.record_register("Alice", h1);
        s.record_register("bob", h2);
        s.record_unregister("ALICE");
        s.record_register("carol", h1);
    }
    RegistryStore s(dir.path.string(), FsyncPolicy::never);
    CHECK(nicks_of(s) == std::vector<std::string>{"bob", "carol"});
    CHECK(s.loaded()[0].hash == h2);
}

TEST_CASE("a record cut short by a crash is dropped and the log stays usable") {
    TempDir dir("chatbus-store");
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::always);
        s.record_register("alice", hash_token("a"));
    }
    fs::path log = dir.path / "registry.log";
    auto full = fs::file_size(log);
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::always);
        s.record_register("bob", hash_token("b"));
    }
    fs::resize_file(log, fs::file_size(log) - 3);  // the crash: bob's record is torn
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::always);
        CHECK(nicks_of(s) == std::vector<std::string>{"alice"});
        CHECK(fs::file_size(log) == full);
        s.record_register("carol", hash_token("c"));
    }
    RegistryStore s(dir.path.string(), FsyncPolicy::always);
    CHECK(nicks_of(s) == std::vector<std::string>{"alice", "carol"});
}

TEST_CASE("compaction keeps exactly the live registrations") {
    TempDir dir("chatbus-store");
    std::vector<StoredNick> live;
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::interval);
        for (int i = 0; i < 6000; ++i) {
            s.record_register("n" + std::to_string(i), hash_token("t"));
            s.record_unregister("n" + std::to_string(i));
        }
        live = {{"kept", hash_token("k")}};
        s.record_register("kept", live[0].hash);
        bool asked = false;
        s.tick(5000, live.size(), [&] { return asked = true, live; });
        CHECK(asked);
        CHECK(fs::file_size(dir.path / "registry.log") == 0);
    }
    RegistryStore s(dir.path.string(), FsyncPolicy::always);
    CHECK(nicks_of(s) == std::vector<std::string>{"kept"});
}

TEST_CASE("a nick's bound key survives a restart and a compaction, and old records load unbound") {
    TempDir dir("chatbus-store");
    const std::string key(40, 'k');
    {
        // A record as brokers before key binding wrote it: a map of op, nick and hash only.
        msgpack::sbuffer body;
        msgpack::packer<msgpack::sbuffer> pk(body);
        TokenHash h = hash_token("old");
        pk.pack_map(3);
        pk.pack(std::string("op")).pack(std::string("register"));
        pk.pack(std::string("nick")).pack(std::string("oldie"));
        pk.pack(std::string("hash")).pack(std::vector<std::uint8_t>(h.begin(), h.end()));
        std::string rec(4, '\0');
        for (int i = 0; i < 4; ++i)
            rec[static_cast<std::size_t>(i)] = static_cast<char>((body.size() >> (8 * i)) & 0xFF);
        rec.append(body.data(), body.size());
        std::ofstream(dir.path / "registry.log", std::ios::binary) << rec;
    }
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::always);
        REQUIRE(nicks_of(s) == std::vector<std::string>{"oldie"});
        CHECK(s.loaded()[0].key.empty());
        CHECK(s.loaded()[0].hash == hash_token("old"));
        s.record_register("bound", hash_token("b"), key);
    }
    std::vector<StoredNick> live;
    {
        RegistryStore s(dir.path.string(), FsyncPolicy::never);
        REQUIRE(nicks_of(s) == std::vector<std::string>{"oldie", "bound"});
        CHECK(s.loaded()[1].key == key);
        live = s.loaded();
        for (int i = 0; i < 10010; ++i) s.record_unregister("nobody");
        s.tick(0, live.size(), [&] { return live; });
        CHECK(fs::file_size(dir.path / "registry.log") == 0);
    }
    RegistryStore s(dir.path.string(), FsyncPolicy::always);
    REQUIRE(nicks_of(s) == std::vector<std::string>{"oldie", "bound"});
    CHECK(s.loaded()[1].key == key);
    CHECK(s.loaded()[0].key.empty());
}
