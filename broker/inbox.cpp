#include "inbox.hpp"

namespace chatbus {

const DmDeliver& Inbox::push(DmDeliver dm) {
    dm.id = next_id_++;
    queue_.push_back(std::move(dm));
    return queue_.back();
}

void Inbox::ack(std::uint64_t upto) {
    while (!queue_.empty() && queue_.front().id <= upto) {
        queue_.pop_front();
        if (next_unsent_ > 0) --next_unsent_;
    }
}

}  // namespace chatbus
