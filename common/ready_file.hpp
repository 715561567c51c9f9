#pragma once
// The broker's ready file (--ready-file): the endpoints it actually bound, for whoever started it with port 0
// (tests, benchmarks), so that nobody has to guess a free port and race another process for it.
#include <string>
#include <utility>
#include <vector>

namespace chatbus {

// Writes one `key=value` line per entry to `path` atomically: a temporary file in the same directory, then a
// rename, so a reader sees either no file or the whole of it. Throws std::runtime_error when it cannot.
void write_ready_file(const std::string& path, const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace chatbus
