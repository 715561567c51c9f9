#pragma once
// Saved nick tokens: one file per nick under $XDG_CONFIG_HOME/chatbus/nicks, readable by the owner only,
// because the token is the only proof of owning the nick.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chatbus::cli {

// The user asked for something chatctl cannot do with what it has (exit 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct SavedNick {
    std::string nick;  // as registered (the spelling shown to others)
    std::string token;
    bool operator==(const SavedNick&) const = default;
};

class TokenStore {
  public:
    explicit TokenStore(std::filesystem::path dir);

    // $XDG_CONFIG_HOME/chatbus/nicks, XDG_CONFIG_HOME defaulting to $HOME/.config. Throws if neither is set.
    static std::filesystem::path default_dir();

    const std::filesystem::path& dir() const { return dir_; }

    // Creates the directory (0700) if needed; called before REGISTER so a token is never received and lost.
    void ensure_dir() const;
    // Writes atomically with mode 0600 from creation. Returns the file's path. Throws std::runtime_error.
    std::filesystem::path save(const SavedNick& n) const;
    std::optional<SavedNick> load(std::string_view nick) const;
    std::vector<SavedNick> list() const;
    // True if a file was removed.
    bool remove(std::string_view nick) const;

    // The nick a command acts as: `as` (case-insensitive) if given, else the only saved nick.
    // Throws UsageError when there is none, or several and no `as`.
    SavedNick select(const std::optional<std::string>& as) const;

  private:
    std::filesystem::path path_for(std::string_view nick) const;
    std::filesystem::path dir_;
};

}  // namespace chatbus::cli
