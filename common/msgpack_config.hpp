#pragma once
// msgpack-c's CMake target pulls in Boost headers; chatbus uses none of its Boost adaptors.
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>

#include <msgpack.hpp>

namespace chatbus::detail {

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
                    msgpack::v1::type::convert_helper(kv[i].val, std::get<I + 1>(fields));
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
