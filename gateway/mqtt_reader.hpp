#pragma once
// A bounds-checked cursor over one packet's variable header and payload. Every read reports whether its bytes
// were there, so a length field that lies is an error and never a read past the packet.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace chatbus::mqtt {

class Reader {
  public:
    explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    bool u8(std::uint8_t& v) {
        if (remaining() < 1) return false;
        v = bytes_[pos_++];
        return true;
    }

    // Two-byte integers are big-endian (1.5.2).
    bool u16(std::uint16_t& v) {
        if (remaining() < 2) return false;
        v = static_cast<std::uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
        pos_ += 2;
        return true;
    }

    // A two-byte length and that many bytes: a UTF-8 string (1.5.3) or binary data (3.1.3.3), unchecked. The
    // view points into the packet, so a caller can check a length before it copies anything.
    bool prefixed(std::string_view& v) {
        std::uint16_t len = 0;
        if (!u16(len) || remaining() < len) return false;
        v = view(len);
        return true;
    }

    // Everything left: a PUBLISH payload (3.3.3).
    std::string_view rest() { return view(remaining()); }

    std::size_t remaining() const { return bytes_.size() - pos_; }
    bool at_end() const { return remaining() == 0; }

  private:
    std::string_view view(std::size_t len) {
        std::string_view v(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
        pos_ += len;
        return v;
    }

    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

}  // namespace chatbus::mqtt
