// Key files: what keygen writes reads back, and bad or missing files give errors that name the file.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/curve.hpp"
#include "tests/unit/temp_dir.hpp"

using namespace chatbus;
namespace fs = std::filesystem;

namespace {

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("written key files read back, the secret one with mode 0600") {
    TempDir d("chatbus-keys");
    CurveKeyPair k = generate_keypair();
    CHECK(valid_z85_key(k.public_key));
    CHECK(valid_z85_key(k.secret_key));
    write_key_files(d.path, "alice", k);
    CurveKeyPair back = read_key_file(d.path / "alice.key");
    CHECK(back.public_key == k.public_key);
    CHECK(back.secret_key == k.secret_key);
    CHECK(read_public_key(d.path / "alice.pub") == k.public_key);
    struct stat st {};
    REQUIRE(::stat((d.path / "alice.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // The .pub file must not leak the secret.
    std::ifstream pub(d.path / "alice.pub");
    std::string text((std::istreambuf_iterator<char>(pub)), std::istreambuf_iterator<char>());
    CHECK(text.find(k.secret_key) == std::string::npos);
    CHECK(error_of([&] { write_key_files(d.path, "alice", generate_keypair()); }).find("already exists") !=
          std::string::npos);
}

TEST_CASE("a key directory yields every .pub key and ignores other files") {
    TempDir d("chatbus-keys");
    CurveKeyPair a = generate_keypair(), b = generate_keypair();
    write_key_files(d.path, "a", a);
    write_key_files(d.path, "b", b);
    auto keys = read_public_keys(d.path);
    REQUIRE(keys.size() == 2);
    CHECK(((keys[0] == a.public_key && keys[1] == b.public_key) ||
           (keys[1] == a.public_key && keys[0] == b.public_key)));
}

TEST_CASE("missing and malformed key files are errors naming the file") {
    TempDir d("chatbus-keys");
    CHECK(error_of([&] { read_key_file(d.path / "nope.key"); }).find("nope.key") != std::string::npos);
    std::ofstream(d.path / "short.pub") << "public-key = abc\n";
    CHECK(error_of([&] { read_public_key(d.path / "short.pub"); }).find("40-character Z85") !=
          std::string::npos);
    std::ofstream(d.path / "nokey.key")
        << "# nothing\npublic-key = " << generate_keypair().public_key << "\n";
    CHECK(error_of([&] { read_key_file(d.path / "nokey.key"); }).find("no secret-key") != std::string::npos);
    std::ofstream(d.path / "junk.pub") << "this is not a key file\n";
    CHECK(error_of([&] { read_public_key(d.path / "junk.pub"); }).find("junk.pub") != std::string::npos);
    CHECK(error_of([&] { read_public_keys(d.path / "none"); }).find("not found") != std::string::npos);
    CHECK(error_of([&] { load_client_keys("x.key", ""); }).find("both") != std::string::npos);
    CHECK_FALSE(load_client_keys("", "").enabled());
}
