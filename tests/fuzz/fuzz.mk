# Builds the libFuzzer targets with clang (driven by run.sh; not part of the CMake build, which may use gcc).
# Every project source but the main.cpp files goes into one sanitized archive (of gateway/ only the MQTT codec:
# the rest is Asio and sockets, slow to compile and fed by no target); objects track their headers.
ROOT ?= $(abspath ../..)
OUT ?= $(ROOT)/build-fuzz
CXX ?= clang++-14

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
DEFS := -DMSGPACK_NO_BOOST -DMSGPACK_DEFAULT_API_VERSION=3 -DSPDLOG_COMPILED_LIB -DSPDLOG_FMT_EXTERNAL \
        -DSPDLOG_SHARED_LIB -DFMT_SHARED
INCS := -I$(ROOT)
CXXFLAGS := -std=c++20 -O1 -g -fno-omit-frame-pointer $(SAN) -fsanitize=fuzzer-no-link $(DEFS) $(INCS) -MMD -MP
LIBS := -lzmq -lsodium -lspdlog -lfmt -lpthread

SRCS := $(wildcard $(ROOT)/common/*.cpp) \
        $(filter-out %/main.cpp,$(wildcard $(ROOT)/worker/*.cpp $(ROOT)/broker/*.cpp)) \
        $(filter-out %/mqtt_session.cpp,$(wildcard $(ROOT)/gateway/mqtt_*.cpp))
OBJS := $(patsubst $(ROOT)/%.cpp,$(OUT)/obj/%.o,$(SRCS))
TARGETS := codec worker broker mqtt
HARNESS_OBJS := $(patsubst %,$(OUT)/obj/tests/fuzz/fuzz_%.o,$(TARGETS)) $(OUT)/obj/tests/fuzz/gen_seeds.o
LIB := $(OUT)/libchatbus_fuzz.a

all: $(patsubst %,$(OUT)/fuzz_%,$(TARGETS)) $(OUT)/gen_seeds

$(OUT)/obj/%.o: $(ROOT)/%.cpp
	@mkdir -p $(@D)
	@echo "  CXX $*.cpp"
	@$(CXX) $(CXXFLAGS) -c $< -o $@

# common/CMakeLists.txt gives version.cpp alone its version and build type; the fuzz build names itself.
$(OUT)/obj/common/version.o: CXXFLAGS += -DCHATBUS_VERSION='"fuzz"' -DCHATBUS_BUILD_TYPE='"libFuzzer"'

$(LIB): $(OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(OUT)/fuzz_%: $(OUT)/obj/tests/fuzz/fuzz_%.o $(LIB)
	@echo "  LINK $(@F)"
	@$(CXX) $(SAN) -fsanitize=fuzzer $< $(LIB) $(LIBS) -o $@

$(OUT)/gen_seeds: $(OUT)/obj/tests/fuzz/gen_seeds.o $(LIB)
	@echo "  LINK $(@F)"
	@$(CXX) $(SAN) $< $(LIB) $(LIBS) -o $@

-include $(OBJS:.o=.d) $(HARNESS_OBJS:.o=.d)

.PHONY: all
.SECONDARY:
