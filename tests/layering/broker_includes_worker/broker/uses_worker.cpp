// A broker source that includes worker code: cmake/layering.cmake must refuse it (tests/CMakeLists.txt).
#include "common/codec.hpp"
#include "worker/worker.hpp"
