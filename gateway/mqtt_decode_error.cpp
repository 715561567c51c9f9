#include "gateway/mqtt_decoder.hpp"

namespace chatbus::mqtt {

std::string_view decode_error_name(DecodeError e) {
    switch (e) {
        case DecodeError::none:
            return "none";
        case DecodeError::need_more:
            return "need_more";
        case DecodeError::bad_remaining_length:
            return "bad_remaining_length";
        case DecodeError::too_large:
            return "too_large";
        case DecodeError::reserved_type:
            return "reserved_type";
        case DecodeError::wrong_direction:
            return "wrong_direction";
        case DecodeError::bad_flags:
            return "bad_flags";
        case DecodeError::malformed:
            return "malformed";
        case DecodeError::bad_protocol_name:
            return "bad_protocol_name";
        case DecodeError::bad_protocol_level:
            return "bad_protocol_level";
        case DecodeError::bad_connect_flags:
            return "bad_connect_flags";
        case DecodeError::bad_utf8:
            return "bad_utf8";
        case DecodeError::bad_topic:
            return "bad_topic";
        case DecodeError::bad_filter:
            return "bad_filter";
        case DecodeError::bad_client_id:
            return "bad_client_id";
        case DecodeError::bad_qos:
            return "bad_qos";
        case DecodeError::bad_packet_id:
            return "bad_packet_id";
        case DecodeError::no_filters:
            return "no_filters";
        case DecodeError::too_many_filters:
            return "too_many_filters";
        case DecodeError::bad_return_code:
            return "bad_return_code";
    }
    return "unknown";
}

}  // namespace chatbus::mqtt
