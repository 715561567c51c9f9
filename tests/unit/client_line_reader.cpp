#include <doctest/doctest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "cli/line_reader.hpp"

using namespace chatbus::cli;

namespace {

struct Pipe {
    int fds[2] = {-1, -1};
    Pipe() { REQUIRE(::pipe(fds) == 0); }
    ~Pipe() {
        for (int fd : fds) {
            if (fd >= 0) ::close(fd);
        }
    }
    void write(const std::string& s) {
        REQUIRE(::write(fds[1], s.data(), s.size()) == static_cast<ssize_t>(s.size()));
    }
    void close_writer() {
        ::close(fds[1]);
        fds[1] = -1;
    }
};

}  // namespace

TEST_CASE("line reader: whole lines as they come, the unterminated rest at EOF") {
    Pipe p;
    LineReader reader(p.fds[0]);
    std::vector<std::string> lines;
    auto take = [&](std::string l) {
        lines.push_back(std::move(l));
        return true;
    };
    p.write("one\ntw");
    CHECK(reader.read(take) == LineReader::Read::more);
    CHECK(lines == std::vector<std::string>{"one"});
    p.write("o\n\nthree");
    CHECK(reader.read(take) == LineReader::Read::more);
    CHECK(lines == std::vector<std::string>{"one", "two", ""});
    p.close_writer();
    CHECK(reader.read(take) == LineReader::Read::ended);
    CHECK(lines == std::vector<std::string>{"one", "two", "", "three"});
}

TEST_CASE("line reader: ends when the line handler says so, without handing on later lines") {
    Pipe p;
    LineReader reader(p.fds[0]);
    std::vector<std::string> lines;
    p.write("a\n/quit\nb\n");
    CHECK(reader.read([&](std::string l) {
        lines.push_back(l);
        return l != "/quit";
    }) == LineReader::Read::ended);
    CHECK(lines == std::vector<std::string>{"a", "/quit"});
}

TEST_CASE("line reader: EOF with nothing pending hands on no line") {
    Pipe p;
    LineReader reader(p.fds[0]);
    p.close_writer();
    int calls = 0;
    CHECK(reader.read([&](std::string) { return ++calls > 0; }) == LineReader::Read::ended);
    CHECK(calls == 0);
}
