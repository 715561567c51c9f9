#include "broker/inbox.hpp"

namespace chatbus {

const DmDeliver& Inbox::push(DmDeliver dm) {
    dm.id = next_id_++;
    if (!queue_) queue_ = std::make_unique<std::deque<DmDeliver>>();
    queue_->push_back(std::move(dm));
    return queue_->back();
}

void Inbox::ack(std::uint64_t upto) {
    if (!queue_) return;
    while (!queue_->empty() && queue_->front().id <= upto) {
        queue_->pop_front();
        if (next_unsent_ > 0) --next_unsent_;
    }
    if (queue_->empty()) queue_.reset();
}

}  // namespace chatbus
