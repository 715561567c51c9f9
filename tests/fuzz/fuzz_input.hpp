#pragma once
// The byte layout shared by the fuzz targets and gen_seeds.cpp: a fuzz input is a sequence of records, each an
// op byte, a 2-byte little-endian length and that many bytes (the last record takes whatever is left when the
// length runs past the end). Any byte string is a valid input; the layout only makes seeds meaningful.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chatbus::fuzz {

struct Record {
    std::uint8_t op = 0;
    std::string_view bytes;
};

inline std::vector<Record> split_records(const std::uint8_t* data, std::size_t size, std::size_t max = 64) {
    std::vector<Record> out;
    std::size_t i = 0;
    while (i < size && out.size() < max) {
        Record r;
        r.op = data[i++];
        std::size_t len = 0;
        if (i + 2 <= size) {
            len = data[i] | (std::size_t{data[i + 1]} << 8);
            i += 2;
        } else {
            i = size;
        }
        if (len > size - i) len = size - i;
        r.bytes = std::string_view(reinterpret_cast<const char*>(data + i), len);
        i += len;
        out.push_back(r);
    }
    return out;
}

inline void append_record(std::string& out, std::uint8_t op, std::string_view bytes) {
    out.push_back(static_cast<char>(op));
    out.push_back(static_cast<char>(bytes.size() & 0xff));
    out.push_back(static_cast<char>((bytes.size() >> 8) & 0xff));
    out.append(bytes.substr(0, 0xffff));
}

// In broker inputs this stands for the token of the harness's registered nick; the harness substitutes it.
inline const std::string kTokenPlaceholder(64, 'T');
inline constexpr std::string_view kFuzzNick = "fuzzer";
inline constexpr std::string_view kFuzzRoom = "lobby";

}  // namespace chatbus::fuzz
