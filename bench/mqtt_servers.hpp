#pragma once
// The MQTT servers the `mqtt` workload measures, each a process of its own (so its VmRSS is the server
// alone), stopped by PID when the object goes: chatbus-gateway from this build in front of a broker, and
// Debian's Mosquitto 2.0 with a generated config on a free loopback port.
#include <string>

#include "bench/proc.hpp"

namespace bench {

class MqttServer {
  public:
    // chatbus-gateway --broker broker_endpoint; ready once it listens and the broker answered its HELLO.
    static MqttServer gateway(const std::string& broker_endpoint);
    // /usr/sbin/mosquitto (or $CHATBUS_MOSQUITTO); ready once it accepts a TCP connection.
    static MqttServer mosquitto();

    MqttServer(MqttServer&& o) noexcept;
    MqttServer& operator=(MqttServer&&) = delete;
    MqttServer(const MqttServer&) = delete;
    ~MqttServer();

    const std::string& name() const { return name_; }
    int port() const { return port_; }
    pid_t pid() const { return child_.pid; }
    long rss_kib() const;

  private:
    MqttServer(std::string name, std::string dir) : name_(std::move(name)), dir_(std::move(dir)) {}

    std::string name_, dir_;  // dir_: the server's config and ready files, removed with it
    Child child_;
    int port_ = 0;
};

}  // namespace bench
