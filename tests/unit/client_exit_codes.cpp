#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "common/status.hpp"

using namespace chatbus;
using namespace chatbus::cli;

TEST_CASE("exit code of every status") {
    const std::map<Status, int> expected = {
        {Status::ok, 0},           {Status::bad_request, 4},   {Status::bad_version, 4},
        {Status::unknown_type, 4}, {Status::too_large, 4},     {Status::invalid_nick, 4},
        {Status::nick_taken, 4},   {Status::unknown_nick, 3},  {Status::not_registered, 3},
        {Status::bad_token, 4},    {Status::invalid_room, 4},  {Status::no_such_room, 3},
        {Status::not_member, 4},   {Status::invalid_text, 4},  {Status::batch_too_large, 4},
        {Status::inbox_full, 4},   {Status::no_worker, 5},     {Status::timeout, 5},
        {Status::internal, 4},     {Status::rate_limited, 4},  {Status::too_many_rooms, 4},
        {Status::room_full, 4},    {Status::reserved_name, 4}, {Status::too_many_clients, 4},
        {Status::wrong_key, 4},    {Status::text_too_long, 4}, {Status::not_authorized, 4},
        {Status::unknown_topic, 4},
    };
    CHECK(expected.size() == all_statuses().size());
    for (const auto& info : all_statuses()) {
        CAPTURE(info.name);
        REQUIRE(expected.contains(info.status));
        CHECK(exit_code_for(info.status) == expected.at(info.status));
    }
}

// The status table of docs/protocol.md has a "chatctl exit" column: the code must follow the document.
TEST_CASE("exit codes match the chatctl exit column of docs/protocol.md") {
    std::ifstream doc(std::string(CHATBUS_SOURCE_DIR) + "/docs/protocol.md");
    REQUIRE(doc);
    std::string line;
    std::size_t rows = 0;
    while (std::getline(doc, line)) {
        // | 7    | unknown_nick    | the target nick ... | 3            |
        if (!line.starts_with("| ") || line.find("chatctl exit") != std::string::npos) continue;
        std::vector<std::string> cells;
        std::stringstream ss(line.substr(1));
        for (std::string cell; std::getline(ss, cell, '|');) {
            auto b = cell.find_first_not_of(' ');
            auto e = cell.find_last_not_of(' ');
            cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
        }
        if (cells.size() < 4 || cells[0].empty() || !std::isdigit(static_cast<unsigned char>(cells[0][0])) ||
            cells[3].size() != 1 || !std::isdigit(static_cast<unsigned char>(cells[3][0]))) {
            continue;
        }
        Status s = status_from_wire(std::stoull(cells[0]));
        CAPTURE(cells[1]);
        CHECK(status_name(s) == cells[1]);
        CHECK(exit_code_for(s) == cells[3][0] - '0');
        ++rows;
    }
    CHECK(rows == all_statuses().size());
}
