#include "common/curve.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

namespace chatbus {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
    throw std::runtime_error("key file " + file.string() + ": " + what);
}

std::string trim(const std::string& s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return {};
    auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// `key = value` lines; blank lines and # comments are skipped.
std::map<std::string, std::string> parse(const fs::path& file) {
    std::ifstream in(file);
    if (!in) fail(file, std::string("cannot read it (") + std::strerror(errno) + ")");
    std::map<std::string, std::string> kv;
    std::string line;
    int n = 0;
    while (std::getline(in, line) && ++n <= 100) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        auto eq = line.find('=');
        if (eq == std::string::npos) fail(file, "line " + std::to_string(n) + " is not `name = value`");
        kv[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return kv;
}

std::string key_field(const std::map<std::string, std::string>& kv, const fs::path& file, const char* name) {
    auto it = kv.find(name);
    if (it == kv.end()) fail(file, std::string("no ") + name + " line (make one with `chatctl keygen`)");
    if (!valid_z85_key(it->second)) fail(file, std::string(name) + " is not a 40-character Z85 key");
    return it->second;
}

void write_file(const fs::path& path, const std::string& text, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno) +
                                 (errno == EEXIST ? " (remove it first to replace the key)" : ""));
    }
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int err = errno;
            ::close(fd);
            throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(err));
        }
        off += static_cast<std::size_t>(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
    }
}

}  // namespace

void require_curve() {
    if (!zmq_has("curve")) throw std::runtime_error("this libzmq was built without CURVE support");
}

CurveKeyPair generate_keypair() {
    require_curve();
    std::array<char, kZ85KeyLength + 1> pub{}, sec{};
    if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
        throw std::runtime_error(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
    }
    return {pub.data(), sec.data()};
}

bool valid_z85_key(const std::string& key) {
    if (key.size() != kZ85KeyLength) return false;
    std::array<std::uint8_t, 32> raw{};
    return zmq_z85_decode(raw.data(), key.c_str()) != nullptr;
}

CurveKeyPair read_key_file(const fs::path& key_file) {
    auto kv = parse(key_file);
    return {key_field(kv, key_file, "public-key"), key_field(kv, key_file, "secret-key")};
}

std::string read_public_key(const fs::path& file) {
    return key_field(parse(file), file, "public-key");
}

std::vector<std::string> read_public_keys(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw std::runtime_error("key directory " + dir.string() + " not found");
    std::vector<std::string> keys;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".pub") keys.push_back(read_public_key(entry.path()));
    }
    if (ec) throw std::runtime_error("cannot list key directory " + dir.string() + ": " + ec.message());
    std::sort(keys.begin(), keys.end());
    return keys;
}

void write_key_files(const fs::path& dir, const std::string& name, const CurveKeyPair& keys) {
    const fs::path key = dir / (name + ".key"), pub = dir / (name + ".pub");
    std::error_code ec;
    if (fs::exists(key, ec) || fs::exists(pub, ec)) {
        throw std::runtime_error(key.string() + " or " + pub.string() +
                                 " already exists (remove it first to replace the key)");
    }
    write_file(key,
               "# chatbus CURVE key pair of " + name + ": keep it secret\npublic-key = " + keys.public_key +
                   "\nsecret-key = " + keys.secret_key + "\n",
               0600);
    write_file(pub, "# chatbus CURVE public key of " + name + "\npublic-key = " + keys.public_key + "\n", 0644);
}

void make_curve_server(zmq::socket_t& s, const CurveKeyPair& keys, const char* zap_domain) {
    require_curve();
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    // libzmq lets every key in when no ZAP handler is bound: the broker binds its handler first.
    s.set(zmq::sockopt::zap_domain, zap_domain);
}

void make_curve_client(zmq::socket_t& s, const CurveClientKeys& keys) {
    if (!keys.enabled()) return;
    require_curve();
    s.set(zmq::sockopt::curve_serverkey, keys.server_public);
    s.set(zmq::sockopt::curve_publickey, keys.own.public_key);
    s.set(zmq::sockopt::curve_secretkey, keys.own.secret_key);
}

std::string_view curve_user_id(const zmq::message_t& m) {
    const char* id = zmq_msg_gets(m.handle(), "User-Id");
    return id ? std::string_view(id) : std::string_view{};
}

CurveClientKeys load_client_keys(const std::string& own_key_file, const std::string& server_pub_file) {
    CurveClientKeys k;
    if (own_key_file.empty() && server_pub_file.empty()) return k;
    if (own_key_file.empty() || server_pub_file.empty()) {
        throw std::runtime_error("CURVE needs both a key file of our own and the broker's public key file");
    }
    k.own = read_key_file(own_key_file);
    k.server_public = read_public_key(server_pub_file);
    return k;
}

}  // namespace chatbus
