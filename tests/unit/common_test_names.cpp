// ctest learns doctest's test names through CMake lists, where ';' splits a name in two: each half then
// matches no test and "passes" without running anything. Keep the separator out of every name.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

TEST_CASE("no unit test name contains a semicolon") {
    namespace fs = std::filesystem;
    const std::regex test_case(R"re(TEST_CASE\("([^"]*)"\))re");
    int names = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(CHATBUS_SOURCE_DIR) / "tests" / "unit")) {
        if (entry.path().extension() != ".cpp") continue;
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        std::string s = text.str();
        for (std::sregex_iterator it(s.begin(), s.end(), test_case), end; it != end; ++it) {
            ++names;
            INFO(entry.path().filename().string() << ": " << (*it)[1].str());
            CHECK((*it)[1].str().find(';') == std::string::npos);
        }
    }
    CHECK(names > 50);
}
