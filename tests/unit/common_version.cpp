#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "common/codec.hpp"
#include "common/messages.hpp"
#include "common/version.hpp"

using namespace chatbus;

namespace {

// project(chatbus VERSION x.y.z ...) in the top-level CMakeLists.txt.
std::string project_version() {
    std::ifstream in(std::string(CHATBUS_SOURCE_DIR) + "/CMakeLists.txt");
    std::stringstream all;
    all << in.rdbuf();
    std::smatch m;
    const std::string text = all.str();
    REQUIRE(std::regex_search(text, m, std::regex(R"(project\(chatbus VERSION ([0-9.]+))")));
    return m[1];
}

}  // namespace

TEST_CASE("version: the line names the program, CMake's version, the codec's protocol and the build type") {
    const std::string line = version_line("chatctl");
    std::smatch m;
    REQUIRE(std::regex_match(line, m,
                             std::regex(R"(chatctl ([0-9]+\.[0-9]+\.[0-9]+) \(protocol ([0-9]+), (\w+)\))")));
    CHECK(m[1] == project_version());
    CHECK(m[1] == std::string(build_version()));
    // The protocol number is the one the codec writes into every frame's header.
    const std::string frame = encode(Hello{.rid = 1});
    REQUIRE(frame.size() >= kHeaderSize);
    CHECK(m[2] == std::to_string(static_cast<unsigned>(static_cast<std::uint8_t>(frame[2]))));
    CHECK(m[3] == std::string(build_type()));
    CHECK(!build_type().empty());
}
