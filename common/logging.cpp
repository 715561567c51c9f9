#include "common/logging.hpp"

#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "common/systemd_notify.hpp"

namespace chatbus {

namespace {

// %* in the pattern: the sd-daemon(3) priority prefix, "<3>" for error and so on.
class SyslogPriority final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        static constexpr const char* prefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
        const auto i = static_cast<std::size_t>(msg.level);
        const char* p = i < std::size(prefix) ? prefix[i] : "<6>";
        dest.append(p, p + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<SyslogPriority>();
    }
};

}  // namespace

bool valid_log_level(const std::string& level) {
    return level == "off" || spdlog::level::from_str(level) != spdlog::level::off;
}

bool setup_logging(const std::string& level, const std::string& process_name) {
    if (!valid_log_level(level)) return false;
    if (systemd::stderr_is_journal()) {
        auto logger = spdlog::stderr_logger_mt(process_name);
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<SyslogPriority>('*').set_pattern("%*%l %n: %v");
        logger->set_formatter(std::move(formatter));
        spdlog::set_default_logger(logger);
    } else {
        auto logger = spdlog::stderr_color_mt(process_name);
        spdlog::set_default_logger(logger);
        spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %n: %v");
    }
    spdlog::set_level(spdlog::level::from_str(level));
    return true;
}

bool set_log_level(const std::string& level) {
    if (!valid_log_level(level)) return false;
    spdlog::set_level(spdlog::level::from_str(level));
    return true;
}

}  // namespace chatbus
