#pragma once
// msgpack-c's CMake target pulls in Boost headers; chatbus uses none of its Boost adaptors.
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <msgpack.hpp>

namespace chatbus::detail {

// A field read as docs/protocol.md types it. msgpack-c's own adaptors also take a bin where a string is
// expected; the protocol's `str` is msgpack str only, so strings (also inside arrays and as map keys) are
// read here, and everything else by msgpack-c (bytes, std::vector<std::uint8_t>, are msgpack bin, as msgpack-c
// packs them).
void read_field(const msgpack::object& o, std::string& v);
void read_field(const msgpack::object& o, std::string_view& v);
void read_field(const msgpack::object& o, std::vector<std::uint8_t>& v);
template <typename T>
void read_field(const msgpack::object& o, std::vector<T>& v);
template <typename V>
void read_field(const msgpack::object& o, std::map<std::string, V>& v);
template <typename T>
void read_field(const msgpack::object& o, T& v) {
    msgpack::v1::type::convert_helper(o, v);
}

inline void read_field(const msgpack::object& o, std::vector<std::uint8_t>& v) {
    msgpack::v1::type::convert_helper(o, v);
}

inline void read_field(const msgpack::object& o, std::string_view& v) {
    if (o.type != msgpack::type::STR) throw msgpack::type_error();
    v = std::string_view(o.via.str.ptr, o.via.str.size);
}

inline void read_field(const msgpack::object& o, std::string& v) {
    if (o.type != msgpack::type::STR) throw msgpack::type_error();
    v.assign(o.via.str.ptr, o.via.str.size);
}

template <typename T>
void read_field(const msgpack::object& o, std::vector<T>& v) {
    if (o.type != msgpack::type::ARRAY) throw msgpack::type_error();
    v.resize(o.via.array.size);
    for (std::uint32_t i = 0; i < o.via.array.size; ++i) read_field(o.via.array.ptr[i], v[i]);
}

template <typename V>
void read_field(const msgpack::object& o, std::map<std::string, V>& v) {
    if (o.type != msgpack::type::MAP) throw msgpack::type_error();
    v.clear();
    for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        std::string key;
        read_field(o.via.map.ptr[i].key, key);
        V value{};
        read_field(o.via.map.ptr[i].val, value);
        v.emplace(std::move(key), std::move(value));  // the first occurrence of a key counts
    }
}

// MSGPACK_DEFINE_MAP's reader first copies every key of the map into a std::map<std::string, ...> (an
// allocation or two per key, for every message read: most of what decoding a small request cost). This
// reads the fields straight from the unpacked map, with the same rules: the body must be a map with string
// keys only, the first occurrence of a key counts, a missing field keeps its value, a mistyped one throws.
template <typename... Args>
struct FieldMap {
    std::tuple<Args&...> fields;

    void msgpack_unpack(const msgpack::object& o) const {
        if (o.type != msgpack::type::MAP) throw msgpack::type_error();
        const msgpack::object_kv* kv = o.via.map.ptr;
        const std::uint32_t n = o.via.map.size;
        for (std::uint32_t i = 0; i < n; ++i) {
            if (kv[i].key.type != msgpack::type::STR) throw msgpack::type_error();
        }
        read<0>(kv, n);
    }

    template <std::size_t I>
    void read(const msgpack::object_kv* kv, std::uint32_t n) const {
        if constexpr (I < sizeof...(Args)) {
            const auto& name = std::get<I>(fields);  // a string literal: const char[N]
            std::string_view want(name, sizeof(name) - 1);
            for (std::uint32_t i = 0; i < n; ++i) {
                if (std::string_view(kv[i].key.via.str.ptr, kv[i].key.via.str.size) == want) {
                    read_field(kv[i].val, std::get<I + 1>(fields));
                    break;
                }
            }
            read<I + 2>(kv, n);
        }
    }
};

template <typename... Args>
FieldMap<Args...> field_map(Args&... args) {
    return FieldMap<Args...>{std::tie(args...)};
}

}  // namespace chatbus::detail

// As msgpack's own (msgpack/adaptor/define_decl.hpp), with the reader above. Packing is unchanged.
#undef MSGPACK_DEFINE_MAP
#define MSGPACK_DEFINE_MAP(...)                                                                        \
    template <typename Packer>                                                                         \
    void msgpack_pack(Packer& msgpack_pk) const {                                                      \
        msgpack::type::make_define_map MSGPACK_DEFINE_MAP_IMPL(__VA_ARGS__).msgpack_pack(msgpack_pk);  \
    }                                                                                                  \
    void msgpack_unpack(msgpack::object const& msgpack_o) {                                            \
        ::chatbus::detail::field_map MSGPACK_DEFINE_MAP_IMPL(__VA_ARGS__).msgpack_unpack(msgpack_o);   \
    }                                                                                                  \
    template <typename MSGPACK_OBJECT>                                                                 \
    void msgpack_object(MSGPACK_OBJECT* msgpack_o, msgpack::zone& msgpack_z) const {                   \
        msgpack::type::make_define_map MSGPACK_DEFINE_MAP_IMPL(__VA_ARGS__).msgpack_object(msgpack_o,  \
                                                                                           msgpack_z); \
    }
