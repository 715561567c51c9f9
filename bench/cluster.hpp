#pragma once
// The chatbus system under test: a broker and workers on threads of this process (ports chosen by the OS), or
// a broker someone else runs (--broker).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "options.hpp"

namespace chatbus {
class Broker;
class Worker;
}  // namespace chatbus

namespace bench {

class Cluster {
  public:
    explicit Cluster(const Options& o);
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    const std::string& client_endpoint() const { return client_; }

  private:
    std::string client_;
    std::unique_ptr<chatbus::Broker> broker_;
    std::vector<std::unique_ptr<chatbus::Worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace bench
