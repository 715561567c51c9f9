// docs/protocol.md is the specification: its message table and status table must list exactly the codec's
// message types and statuses (code and name), and the fields it gives each message must be the keys the codec
// writes. Adding or removing an entry on either side without the other fails here.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/codec.hpp"
#include "tests/unit/common_samples.hpp"
#include "common/msg_type.hpp"
#include "common/status.hpp"

using namespace chatbus;

namespace {

using Entry = std::pair<int, std::string>;  // (code, name)

std::string read_doc() {
    const std::string path = std::string(CHATBUS_SOURCE_DIR) + "/docs/protocol.md";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "cannot read " << path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t");
    auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split_cells(const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream in(line);
    while (std::getline(in, cell, '|')) cells.push_back(trim(cell));
    if (!cells.empty() && cells.front().empty()) cells.erase(cells.begin());
    return cells;
}

// Rows "| 0xNN | NAME | direction | fields |" -> (code, name) and the fields cell.
std::vector<Entry> message_rows(const std::string& doc,
                                std::map<std::string, std::string>* fields = nullptr) {
    static const std::regex row(R"(^\|\s*0x([0-9A-Fa-f]{2})\s*\|\s*([A-Z][A-Z_]*)\s*\|.*)");
    std::vector<Entry> out;
    std::istringstream in(doc);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (!std::regex_match(line, m, row)) continue;
        out.emplace_back(std::stoi(m[1].str(), nullptr, 16), m[2].str());
        auto cells = split_cells(line);
        if (fields && cells.size() >= 4) (*fields)[m[2].str()] = cells[3];
    }
    return out;
}

// Rows "| N | name | meaning | exit |".
std::vector<Entry> status_rows(const std::string& doc) {
    static const std::regex row(R"(^\|\s*([0-9]+)\s*\|\s*([a-z][a-z_]*)\s*\|.*)");
    std::vector<Entry> out;
    std::istringstream in(doc);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, row)) out.emplace_back(std::stoi(m[1].str()), m[2].str());
    }
    return out;
}

std::set<Entry> codec_messages() {
    std::set<Entry> s;
    for (const auto& t : all_message_types()) s.emplace(static_cast<int>(t.type), std::string(t.name));
    return s;
}

std::set<Entry> codec_statuses() {
    std::set<Entry> s;
    for (const auto& t : all_statuses()) s.emplace(static_cast<int>(t.status), std::string(t.name));
    return s;
}

// Describes the differences between the document's rows and the codec's set; empty when they agree.
std::string compare(const std::vector<Entry>& doc_rows, const std::set<Entry>& codec) {
    std::ostringstream out;
    std::set<Entry> doc;
    for (const auto& e : doc_rows) {
        if (!doc.insert(e).second) out << "document lists " << e.second << " (" << e.first << ") twice; ";
    }
    for (const auto& e : doc) {
        if (!codec.count(e))
            out << "document has " << e.second << " (" << e.first << ") that the codec lacks; ";
    }
    for (const auto& e : codec) {
        if (!doc.count(e))
            out << "codec has " << e.second << " (" << e.first << ") that the document lacks; ";
    }
    return out.str();
}

std::string without(std::string s, char open, char close) {
    std::string out;
    int depth = 0;
    for (char c : s) {
        if (c == open)
            ++depth;
        else if (c == close && depth > 0)
            --depth;
        else if (depth == 0)
            out.push_back(c);
    }
    return out;
}

// The field names in a table cell such as "rid status error, room str, seq u64, joined bool" or
// "rid, room str, last u64 (0 = all kept)": lower-case words that are not types or prose.
std::set<std::string> cell_fields(const std::string& cell) {
    static const std::set<std::string> not_fields{"u64",    "str",   "bool",  "map", "and", "the",
                                                  "fields", "under", "below", "of",  "body"};
    std::set<std::string> out;
    std::string s = without(without(cell, '(', ')'), '[', ']');
    static const std::regex word(R"([A-Za-z_][A-Za-z_0-9]*)");
    for (auto it = std::sregex_iterator(s.begin(), s.end(), word); it != std::sregex_iterator(); ++it) {
        std::string w = it->str();
        bool lower = w.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
        if (lower && !not_fields.count(w)) out.insert(w);
    }
    return out;
}

// The `backticked` names in the paragraph that starts with `start`, parenthesised and bracketed text removed.
std::set<std::string> paragraph_fields(const std::string& doc, const std::string& start) {
    auto b = doc.find(start);
    REQUIRE_MESSAGE(b != std::string::npos, "the document has no paragraph starting " << start);
    auto e = doc.find("\n\n", b);
    std::string para =
        without(without(doc.substr(b + start.size(), e - b - start.size()), '(', ')'), '[', ']');
    std::set<std::string> out;
    static const std::regex quoted("`([a-z_]+)`");
    for (auto it = std::sregex_iterator(para.begin(), para.end(), quoted); it != std::sregex_iterator();
         ++it) {
        out.insert((*it)[1].str());
    }
    return out;
}

std::set<std::string> map_keys(const msgpack::object& o) {
    std::set<std::string> keys;
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        const auto& k = o.via.map.ptr[i].key;
        keys.emplace(k.via.str.ptr, k.via.str.size);
    }
    return keys;
}

template <class T>
std::set<std::string> codec_fields() {
    Decoded d;
    REQUIRE(decode(encode(chatbus::test::sample<T>()), d) == Status::ok);
    return map_keys(d.body.get());
}

std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : " ") + x;
    return out;
}

}  // namespace

TEST_CASE("the table parsers find rows and the comparison reports every difference") {
    const std::string doc =
        "| code | name | direction | fields |\n"
        "|------|------|-----------|--------|\n"
        "| 0x01 | HELLO | client → broker | rid |\n"
        "| 0x81 | HELLO_REPLY | broker → client | rid status error |\n"
        "| client `tcp://127.0.0.1:5555` | ROUTER (bind) | DEALER | requests |\n"
        "| 0    | ok     | success | 0 |\n"
        "| 18   | internal | bug | 4 |\n";
    auto msgs = message_rows(doc);
    REQUIRE(msgs.size() == 2);
    CHECK(msgs[0] == Entry{0x01, "HELLO"});
    CHECK(msgs[1] == Entry{0x81, "HELLO_REPLY"});
    auto sts = status_rows(doc);
    REQUIRE(sts.size() == 2);
    CHECK(sts[1] == Entry{18, "internal"});

    std::set<Entry> codec{{0x01, "HELLO"}, {0x81, "HELLO_REPLY"}};
    CHECK(compare(msgs, codec).empty());
    // The codec gains a type the document lacks.
    std::set<Entry> more = codec;
    more.emplace(0x0E, "NEW");
    CHECK(compare(msgs, more).find("codec has NEW") != std::string::npos);
    // The document gains a row (or lists one twice).
    auto extra = msgs;
    extra.emplace_back(0x0F, "OTHER");
    extra.emplace_back(0x01, "HELLO");
    CHECK(compare(extra, codec).find("document has OTHER") != std::string::npos);
    CHECK(compare(extra, codec).find("twice") != std::string::npos);
    // Same code, different name.
    CHECK_FALSE(compare({{0x01, "HI"}, {0x81, "HELLO_REPLY"}}, codec).empty());

    CHECK(cell_fields("rid, room str, last u64 (0 = all kept), since u64 (0 = from the start)") ==
          std::set<std::string>{"rid", "room", "last", "since"});
    CHECK(cell_fields("rid status error, rooms [map: room str, members u64]") ==
          std::set<std::string>{"rid", "status", "error", "rooms"});
    CHECK(cell_fields("(empty map)").empty());
}

TEST_CASE("docs/protocol.md message table == all_message_types() (code and name)") {
    const std::string doc = read_doc();
    auto rows = message_rows(doc);
    CHECK(rows.size() >= 30);  // the table was found at all
    std::string diff = compare(rows, codec_messages());
    CHECK_MESSAGE(diff.empty(), diff);
}

TEST_CASE("docs/protocol.md status table == all_statuses() (code and name)") {
    const std::string doc = read_doc();
    auto rows = status_rows(doc);
    CHECK(rows.size() >= 10);
    std::string diff = compare(rows, codec_statuses());
    CHECK_MESSAGE(diff.empty(), diff);
}

TEST_CASE("docs/protocol.md fields of each message == the keys the codec writes") {
    const std::string doc = read_doc();
    std::map<std::string, std::string> cells;
    message_rows(doc, &cells);

    chatbus::test::for_each_message_type([&](auto m) {
        using T = decltype(m);
        const std::string name(msg_type_name(T::kType));
        CAPTURE(name);
        REQUIRE_MESSAGE(cells.count(name), name << " has no row");
        std::set<std::string> documented = cell_fields(cells[name]);
        if constexpr (std::is_same_v<T, StatusReply>) {
            auto more = paragraph_fields(doc, "STATUS_REPLY fields:");
            documented.insert(more.begin(), more.end());
        }
        std::set<std::string> coded = codec_fields<T>();
        CHECK_MESSAGE(documented == coded,
                      "document: {" << join(documented) << "} codec: {" << join(coded) << "}");
    });

    // Nested maps described in prose.
    auto limits = paragraph_fields(doc, "`limits` in HELLO_REPLY:");
    Decoded d;
    REQUIRE(decode(encode(chatbus::test::sample<HelloReply>()), d) == Status::ok);
    std::set<std::string> coded_limits;
    for (std::uint32_t i = 0; i < d.body.get().via.map.size; ++i) {
        const auto& kv = d.body.get().via.map.ptr[i];
        if (std::string(kv.key.via.str.ptr, kv.key.via.str.size) == "limits") coded_limits = map_keys(kv.val);
    }
    CHECK_MESSAGE(limits == coded_limits,
                  "document: {" << join(limits) << "} codec: {" << join(coded_limits) << "}");
}

namespace {

// The message names a sentence of the document lists: the upper-case words from `lead` to its full stop.
std::set<std::string> names_after(const std::string& doc, const std::string& lead) {
    const auto at = doc.find(lead);
    REQUIRE_MESSAGE(at != std::string::npos, "docs/protocol.md no longer says \"" << lead << "\"");
    const std::string sentence = doc.substr(at + lead.size(), doc.find('.', at) - at - lead.size());
    std::set<std::string> names;
    const std::regex word("[A-Z][A-Z_]+");
    for (std::sregex_iterator it(sentence.begin(), sentence.end(), word), end; it != end; ++it) {
        names.insert(it->str());
    }
    return names;
}

template <class Pred>
std::set<std::string> names_where(Pred pred) {
    std::set<std::string> names;
    for (const auto& info : all_message_types()) {
        if (pred(info.type)) names.insert(std::string(info.name));
    }
    return names;
}

}  // namespace

TEST_CASE("docs/protocol.md's room requests and notifications == msg_type.hpp's table") {
    const std::string doc = read_doc();
    CHECK(names_after(doc, "Requests a worker handles:") == names_where(is_room_request));
    CHECK(names_after(doc, "except the notifications") == names_where(is_client_notification));
}
