#pragma once
// CurveZMQ keys and socket options, shared by the broker, the worker and chatctl so all three read key files
// and set up sockets the same way. Key files are text (docs/chatctl.md, "keygen"):
//   NAME.key  public-key = Z85 and secret-key = Z85 (mode 0600)
//   NAME.pub  public-key = Z85
#include <filesystem>
#include <string>
#include <vector>

#include <zmq.hpp>

namespace chatbus {

inline constexpr std::size_t kZ85KeyLength = 40;  // 32 bytes in Z85

struct CurveKeyPair {
    std::string public_key;  // Z85
    std::string secret_key;  // Z85
};

// The keys a CURVE client needs: its own pair and the server's public key. Empty: CURVE off.
struct CurveClientKeys {
    CurveKeyPair own;
    std::string server_public;
    bool enabled() const { return !server_public.empty(); }
};

// The ZAP domains the broker's sockets authenticate in (docs/protocol.md, "CURVE").
inline constexpr const char* kZapDomainClients = "chatbus-clients";
inline constexpr const char* kZapDomainWorkers = "chatbus-workers";

// Throws std::runtime_error when libzmq was built without CURVE.
void require_curve();
CurveKeyPair generate_keypair();
// True if `key` is 40 Z85 characters that decode to 32 bytes.
bool valid_z85_key(const std::string& key);

// Each throws std::runtime_error naming the file and what is wrong with it.
CurveKeyPair read_key_file(const std::filesystem::path& key_file);        // NAME.key: both keys
std::string read_public_key(const std::filesystem::path& file);           // NAME.pub (or NAME.key)
std::vector<std::string> read_public_keys(const std::filesystem::path& dir);  // every DIR/*.pub
// Writes DIR/NAME.key (0600) and DIR/NAME.pub; refuses to overwrite either.
void write_key_files(const std::filesystem::path& dir, const std::string& name, const CurveKeyPair& keys);

// Makes `s` a CURVE server with `keys`, authenticating peers through ZAP in `zap_domain`. Before bind().
void make_curve_server(zmq::socket_t& s, const CurveKeyPair& keys, const char* zap_domain);
// Makes `s` a CURVE client of the server `keys.server_public`; no-op when !keys.enabled(). Before connect().
void make_curve_client(zmq::socket_t& s, const CurveClientKeys& keys);
// The CURVE public key (Z85) the broker's ZAP handler gave the connection `m` came in on; empty without one.
std::string_view curve_user_id(const zmq::message_t& m);
// Reads both files for make_curve_client; both empty: CURVE off. One without the other is an error.
CurveClientKeys load_client_keys(const std::string& own_key_file, const std::string& server_pub_file);

}  // namespace chatbus
