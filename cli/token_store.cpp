#include "cli/token_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "common/names.hpp"

namespace chatbus::cli {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void throw_errno(const std::string& what, const fs::path& p) {
    throw std::runtime_error(what + " " + p.string() + ": " + std::strerror(errno));
}

// mkdir -p where every directory chatctl creates gets 0700; an existing directory keeps its mode, except the
// last one (ours), which is tightened in case an older version or a user left it open.
void make_private_dirs(const fs::path& dir) {
    fs::path cur;
    for (const auto& part : dir) {
        cur /= part;
        if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("cannot create directory", cur);
    }
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) throw_errno("cannot stat", dir);
    if (!S_ISDIR(st.st_mode)) throw std::runtime_error(dir.string() + " is not a directory");
    if ((st.st_mode & 077) != 0 && ::chmod(dir.c_str(), 0700) != 0) throw_errno("cannot chmod", dir);
}

std::string random_suffix() {
    std::random_device rd;
    return std::to_string(rd()) + std::to_string(rd());
}

}  // namespace

TokenStore::TokenStore(fs::path dir) : dir_(std::move(dir)) {}

fs::path TokenStore::default_dir() {
    fs::path base;
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) {
        base = x;
    } else if (const char* h = std::getenv("HOME"); h && *h) {
        base = fs::path(h) / ".config";
    } else {
        throw std::runtime_error("neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep nick tokens");
    }
    return base / "chatbus" / "nicks";
}

fs::path TokenStore::path_for(std::string_view nick) const {
    // Only valid nicks become file names, so a name can never climb out of the directory.
    if (!valid_nick(nick)) return {};
    return dir_ / fold_name(nick);
}

void TokenStore::ensure_dir() const {
    make_private_dirs(dir_);
}

fs::path TokenStore::save(const SavedNick& n) const {
    fs::path p = path_for(n.nick);
    if (p.empty()) throw std::runtime_error("refusing to save a token for invalid nick '" + n.nick + "'");
    ensure_dir();
    fs::path tmp = dir_ / ("." + fold_name(n.nick) + ".tmp" + random_suffix());
    // O_EXCL with mode 0600: the file is never readable by others, not even between create and chmod.
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno("cannot create", tmp);
    std::string content = "nick=" + n.nick + "\ntoken=" + n.token + "\n";
    const char* data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t w = ::write(fd, data, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            errno = e;
            throw_errno("cannot write", tmp);
        }
        data += w;
        left -= static_cast<std::size_t>(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(tmp.c_str());
        throw_errno("cannot write", tmp);
    }
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        throw_errno("cannot rename to", p);
    }
    return p;
}

std::optional<SavedNick> TokenStore::load(std::string_view nick) const {
    fs::path p = path_for(nick);
    if (p.empty()) return std::nullopt;
    std::ifstream in(p);
    if (!in) return std::nullopt;
    SavedNick n;
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("nick=")) n.nick = line.substr(5);
        if (line.starts_with("token=")) n.token = line.substr(6);
    }
    // A file for another nick (hand-edited or renamed) would make requests act as someone unexpected.
    if (n.token.empty() || !valid_nick(n.nick) || fold_name(n.nick) != fold_name(nick)) return std::nullopt;
    return n;
}

std::vector<SavedNick> TokenStore::list() const {
    std::vector<SavedNick> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        std::string name = entry.path().filename().string();
        if (!valid_nick(name) || name != fold_name(name)) continue;  // temp files, strays
        if (auto n = load(name)) out.push_back(std::move(*n));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return fold_name(a.nick) < fold_name(b.nick); });
    return out;
}

bool TokenStore::remove(std::string_view nick) const {
    fs::path p = path_for(nick);
    if (p.empty()) return false;
    std::error_code ec;
    return fs::remove(p, ec);
}

SavedNick TokenStore::select(const std::optional<std::string>& as) const {
    if (as) {
        if (auto n = load(*as)) return *n;
        throw UsageError("no saved token for nick '" + *as + "' in " + dir_.string() +
                         " (register it with `chatctl register " + *as + "`)");
    }
    auto all = list();
    if (all.empty()) {
        throw UsageError("no saved nick in " + dir_.string() + ": register one with `chatctl register NICK`");
    }
    if (all.size() > 1) {
        std::ostringstream names;
        for (std::size_t i = 0; i < all.size(); ++i) names << (i ? ", " : "") << all[i].nick;
        throw UsageError("several saved nicks (" + names.str() + "): choose one with --as NICK");
    }
    return all.front();
}

}  // namespace chatbus::cli
