#pragma once
// msgpack-c's CMake target pulls in Boost headers; chatbus uses none of its Boost adaptors.
#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <msgpack.hpp>
