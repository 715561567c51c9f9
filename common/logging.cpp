#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace chatbus {

bool valid_log_level(const std::string& level) {
    return level == "off" || spdlog::level::from_str(level) != spdlog::level::off;
}

bool setup_logging(const std::string& level, const std::string& process_name) {
    if (!valid_log_level(level)) return false;
    auto logger = spdlog::stderr_color_mt(process_name);
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %n: %v");
    spdlog::set_level(spdlog::level::from_str(level));
    return true;
}

}  // namespace chatbus
