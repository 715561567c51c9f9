#include "broker/registry_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "common/codec.hpp"
#include "common/msgpack_config.hpp"
#include "common/names.hpp"

namespace chatbus {
namespace {

struct Record {
    std::string op;  // "register" or "unregister"
    std::string nick;
    std::vector<std::uint8_t> hash;
    // Added with nick-to-key binding: records written before it have no "key" and load as unbound.
    std::string key;
    MSGPACK_DEFINE_MAP(op, nick, hash, key)
};

std::string frame_record(const Record& r) {
    msgpack::sbuffer body;
    msgpack::pack(body, r);
    std::string out(4, '\0');
    auto n = static_cast<std::uint32_t>(body.size());
    for (int i = 0; i < 4; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    out.append(body.data(), body.size());
    return out;
}

// Applies the records in `bytes` to `nicks` (folded nick -> entry, ordered by arrival through `order`);
// returns the length of the valid prefix.
std::size_t replay(const std::string& bytes, std::map<std::string, StoredNick>& nicks,
                   std::vector<std::string>& order, std::size_t& records) {
    std::size_t off = 0;
    while (off + 4 <= bytes.size()) {
        std::uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[off + i])) << (8 * i);
        if (n == 0 || off + 4 + n > bytes.size()) break;
        Record r;
        try {
            auto oh = msgpack::unpack(bytes.data() + off + 4, n, nullptr, nullptr, network_unpack_limit());
            oh.get().convert(r);
        } catch (...) {
            break;
        }
        std::string key = fold_name(r.nick);
        if (r.op == "register" && r.hash.size() == sizeof(TokenHash)) {
            StoredNick s{r.nick, {}, r.key};
            std::memcpy(s.hash.data(), r.hash.data(), s.hash.size());
            if (!nicks.count(key)) order.push_back(key);
            nicks[key] = s;
        } else if (r.op == "unregister") {
            nicks.erase(key);
        } else {
            break;
        }
        off += 4 + n;
        ++records;
    }
    return off;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_all(int fd, const std::string& data, const std::string& what) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t w = ::write(fd, data.data() + done, data.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw std::runtime_error(what + ": " + std::strerror(errno));
        done += static_cast<std::size_t>(w);
    }
}

}  // namespace

FsyncPolicy parse_fsync_policy(const std::string& name) {
    if (name == "always") return FsyncPolicy::always;
    if (name == "interval") return FsyncPolicy::interval;
    if (name == "never") return FsyncPolicy::never;
    throw std::invalid_argument("fsync must be always, interval or never, not '" + name + "'");
}

RegistryStore::RegistryStore(std::string dir, FsyncPolicy policy) : dir_(std::move(dir)), policy_(policy) {
    namespace fs = std::filesystem;
    fs::create_directories(dir_);
    fs::path snap = fs::path(dir_) / "registry.snapshot";
    fs::path log = fs::path(dir_) / "registry.log";
    std::map<std::string, StoredNick> nicks;
    std::vector<std::string> order;
    std::size_t snap_records = 0;
    std::string snap_bytes = read_file(snap);
    if (replay(snap_bytes, nicks, order, snap_records) != snap_bytes.size()) {
        // Snapshots are written whole and renamed into place, so a bad one is damage, not a crash.
        throw std::runtime_error("damaged registry snapshot " + snap.string());
    }
    std::string log_bytes = read_file(log);
    std::size_t good = replay(log_bytes, nicks, order, log_records_);
    log_fd_ = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd_ < 0) throw std::runtime_error("cannot open " + log.string() + ": " + std::strerror(errno));
    if (good != log_bytes.size()) {
        spdlog::warn("registry log: dropping {} bytes of a record cut short by a crash",
                     log_bytes.size() - good);
        if (::ftruncate(log_fd_, static_cast<off_t>(good)) != 0) {
            throw std::runtime_error("cannot truncate " + log.string() + ": " + std::strerror(errno));
        }
    }
    for (const auto& key : order) {
        auto it = nicks.find(key);
        if (it != nicks.end()) loaded_.push_back(it->second);
    }
    spdlog::info("registry: {} nicks loaded from {}", loaded_.size(), dir_);
}

RegistryStore::~RegistryStore() {
    if (log_fd_ >= 0) {
        if (dirty_) ::fdatasync(log_fd_);
        ::close(log_fd_);
    }
}

void RegistryStore::append(const std::string& record) {
    write_all(log_fd_, record, "registry log");
    ++log_records_;
    if (policy_ == FsyncPolicy::always) {
        ::fdatasync(log_fd_);
    } else {
        dirty_ = true;
    }
}

void RegistryStore::record_register(const std::string& nick, const TokenHash& hash, const std::string& key) {
    append(frame_record(Record{"register", nick, std::vector<std::uint8_t>(hash.begin(), hash.end()), key}));
}

void RegistryStore::record_unregister(const std::string& nick) {
    append(frame_record(Record{"unregister", nick, {}, {}}));
}

void RegistryStore::tick(std::int64_t now_ms, std::size_t live_count,
                         const std::function<std::vector<StoredNick>()>& live) {
    if (dirty_ && policy_ == FsyncPolicy::interval && now_ms - last_sync_ms_ >= 1000) {
        ::fdatasync(log_fd_);
        dirty_ = false;
        last_sync_ms_ = now_ms;
    }
    // Compact once the log holds far more records than there are live nicks (churn of register/unregister).
    if (log_records_ > 2 * live_count + 10000) compact(live());
}

void RegistryStore::compact(const std::vector<StoredNick>& live) {
    namespace fs = std::filesystem;
    fs::path snap = fs::path(dir_) / "registry.snapshot";
    fs::path tmp = fs::path(dir_) / "registry.snapshot.tmp";
    std::string bytes;
    for (const auto& s : live) {
        bytes += frame_record(
            Record{"register", s.nick, std::vector<std::uint8_t>(s.hash.begin(), s.hash.end()), s.key});
    }
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        spdlog::error("registry: cannot write {}: {}", tmp.string(), std::strerror(errno));
        return;
    }
    try {
        write_all(fd, bytes, "registry snapshot");
    } catch (const std::exception& e) {
        spdlog::error("registry: {}", e.what());
        ::close(fd);
        return;
    }
    ::fsync(fd);
    ::close(fd);
    // The rename is the commit point: before it the old snapshot + log hold everything, after it the new
    // snapshot does and the log's records are repeats that replay harmlessly until it is truncated.
    fs::rename(tmp, snap);
    if (::ftruncate(log_fd_, 0) == 0) log_records_ = 0;
    ::fdatasync(log_fd_);
    dirty_ = false;
    spdlog::info("registry: compacted to {} nicks", live.size());
}

}  // namespace chatbus
