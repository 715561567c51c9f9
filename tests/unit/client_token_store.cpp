#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "cli/token_store.hpp"

using namespace chatbus::cli;
namespace fs = std::filesystem;

namespace {

// A fresh XDG_CONFIG_HOME for one test, removed afterwards.
struct TempConfigHome {
    fs::path root;
    std::string old;
    bool had_old = false;
    TempConfigHome() {
        std::string tmpl = (fs::temp_directory_path() / "chatctl-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        root = tmpl;
        if (const char* o = std::getenv("XDG_CONFIG_HOME")) {
            old = o;
            had_old = true;
        }
        ::setenv("XDG_CONFIG_HOME", root.c_str(), 1);
    }
    ~TempConfigHome() {
        if (had_old) {
            ::setenv("XDG_CONFIG_HOME", old.c_str(), 1);
        } else {
            ::unsetenv("XDG_CONFIG_HOME");
        }
        std::error_code ec;
        fs::remove_all(root, ec);
    }
};

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("default_dir follows XDG_CONFIG_HOME") {
    TempConfigHome home;
    CHECK(TokenStore::default_dir() == home.root / "chatbus" / "nicks");
}

TEST_CASE("save creates 0700 directories and a 0600 file even with a permissive umask") {
    TempConfigHome home;
    TokenStore store(TokenStore::default_dir());
    mode_t old_mask = ::umask(0);
    fs::path p;
    try {
        p = store.save({.nick = "Alice", .token = "t0k3n"});
    } catch (...) {
        ::umask(old_mask);
        throw;
    }
    ::umask(old_mask);
    CHECK(p == home.root / "chatbus" / "nicks" / "alice");
    CHECK(mode_of(p) == 0600);
    CHECK(mode_of(home.root / "chatbus" / "nicks") == 0700);
    CHECK(mode_of(home.root / "chatbus") == 0700);
    // No temporary file is left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(p.parent_path())) ++files;
    CHECK(files == 1);

    auto loaded = store.load("ALICE");
    REQUIRE(loaded);
    CHECK(loaded->nick == "Alice");  // the registered spelling survives
    CHECK(loaded->token == "t0k3n");
}

TEST_CASE("an existing too-open nicks directory is tightened") {
    TempConfigHome home;
    fs::path dir = home.root / "chatbus" / "nicks";
    fs::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    TokenStore(dir).save({.nick = "bob", .token = "x"});
    CHECK(mode_of(dir) == 0700);
}

TEST_CASE("select: --as, the only saved nick, none, several") {
    TempConfigHome home;
    TokenStore store(TokenStore::default_dir());

    SUBCASE("none saved is a usage error") {
        CHECK_THROWS_AS(store.select(std::nullopt), UsageError);
        CHECK_THROWS_AS(store.select(std::string("alice")), UsageError);
    }
    SUBCASE("one saved is picked without --as") {
        store.save({.nick = "Alice", .token = "a"});
        CHECK(store.select(std::nullopt) == SavedNick{"Alice", "a"});
        CHECK(store.select(std::string("aLiCe")) == SavedNick{"Alice", "a"});
        CHECK_THROWS_AS(store.select(std::string("bob")), UsageError);
    }
    SUBCASE("several saved need --as") {
        store.save({.nick = "Alice", .token = "a"});
        store.save({.nick = "bob", .token = "b"});
        try {
            store.select(std::nullopt);
            FAIL("expected a UsageError");
        } catch (const UsageError& e) {
            std::string what = e.what();
            CHECK(what.find("Alice") != std::string::npos);
            CHECK(what.find("bob") != std::string::npos);
            CHECK(what.find("--as") != std::string::npos);
        }
        CHECK(store.select(std::string("BOB")) == SavedNick{"bob", "b"});
        CHECK(store.list().size() == 2);
    }
    SUBCASE("a name that is not a nick never reaches the file system") {
        store.save({.nick = "Alice", .token = "a"});
        CHECK_THROWS_AS(store.select(std::string("../nicks/alice")), UsageError);
        CHECK_FALSE(store.load("../nicks/alice"));
        CHECK_THROWS(store.save({.nick = "../evil", .token = "x"}));
    }
    SUBCASE("remove deletes the file") {
        store.save({.nick = "Alice", .token = "a"});
        CHECK(store.remove("ALICE"));
        CHECK_FALSE(store.load("alice"));
        CHECK_FALSE(store.remove("alice"));
        CHECK_THROWS_AS(store.select(std::nullopt), UsageError);
    }
    SUBCASE("a file whose content names another nick is not trusted") {
        fs::create_directories(store.dir());
        std::ofstream(store.dir() / "carol") << "nick=mallory\ntoken=m\n";
        CHECK_FALSE(store.load("carol"));
        CHECK_THROWS_AS(store.select(std::nullopt), UsageError);
    }
}

TEST_CASE("TEXT words and stdin") {
    std::istringstream none;
    CHECK(text_from_words({"hello", "there", "world"}, none) == "hello there world");
    std::istringstream in("line one\nline two\n");
    CHECK(text_from_words({"-"}, in) == "line one\nline two");
    std::istringstream in2("no newline");
    CHECK(text_from_words({"-"}, in2) == "no newline");
    std::istringstream in3("two\n\n");
    CHECK(text_from_words({"-"}, in3) == "two\n");
    std::istringstream unused("x");
    CHECK(text_from_words({"a", "-"}, unused) == "a -");
}

TEST_CASE("broker endpoint: flag, then CHATBUS_BROKER, then the default") {
    const char* old = std::getenv("CHATBUS_BROKER");
    std::string saved = old ? old : "";
    ::unsetenv("CHATBUS_BROKER");
    CHECK(resolve_broker(std::nullopt) == "tcp://127.0.0.1:5555");
    ::setenv("CHATBUS_BROKER", "tcp://10.1.2.3:7000", 1);
    CHECK(resolve_broker(std::nullopt) == "tcp://10.1.2.3:7000");
    CHECK(resolve_broker(std::string("tcp://h:1")) == "tcp://h:1");
    if (old) {
        ::setenv("CHATBUS_BROKER", saved.c_str(), 1);
    } else {
        ::unsetenv("CHATBUS_BROKER");
    }
}
