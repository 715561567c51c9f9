#pragma once
// The chatbus system under test: a broker and workers on threads of this process (ports chosen by the OS), or
// a broker someone else runs (--broker).
#include <memory>
#include <string>
#include <thread>

#include "bench/options.hpp"
#include "bench/report.hpp"

namespace chatbus {
class BrokerNode;
}  // namespace chatbus

namespace bench {

class Cluster {
  public:
    // link: "tcp" or "local" (see Options::link).
    Cluster(const Options& o, std::string link);
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    const std::string& client_endpoint() const { return client_; }
    // Marks a chatbus result with the way its workers were linked to the broker.
    Result tag(Result r) const {
        r.link = link_;
        return r;
    }

  private:
    std::string client_, link_;
    std::unique_ptr<chatbus::BrokerNode> node_;
    std::thread thread_;
};

}  // namespace bench
