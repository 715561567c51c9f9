#pragma once
// A msgpack body written by hand (a packer call per value), for tests that need bytes encode() never makes.
#include <string>

#include "common/msgpack_config.hpp"

namespace chatbus::test {

template <class F>
std::string packed_with(F&& build) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> pk(b);
    build(pk);
    return {b.data(), b.size()};
}

}  // namespace chatbus::test
