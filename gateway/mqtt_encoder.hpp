#pragma once
// The MQTT 3.1.1 encoder: appends a packet's bytes to a string, for either direction (the gateway writes what
// servers send, the bench what clients send).
//
// Preconditions, which the encoder does not check (a decoded packet always meets them): every string and
// binary field is at most 65,535 bytes; the Remaining Length is at most kMaxRemainingLength; every QoS is 0,
// 1 or 2; a PUBLISH with QoS 0 has dup false (its packet_id is not written); a Connect with a password has a
// user name; a Suback has at least one code, a Subscribe or Unsubscribe at least one filter. Topics, filters
// and UTF-8 are written as given, so that tests can build packets a decoder must refuse.
#include <cstddef>
#include <string>

#include "gateway/mqtt_packet.hpp"

namespace chatbus::mqtt {

void encode(std::string& out, const Connect& p);
void encode(std::string& out, const Connack& p);
void encode(std::string& out, const Publish& p);
void encode(std::string& out, const Puback& p);
void encode(std::string& out, const Pubrec& p);
void encode(std::string& out, const Pubrel& p);
void encode(std::string& out, const Pubcomp& p);
void encode(std::string& out, const Subscribe& p);
void encode(std::string& out, const Suback& p);
void encode(std::string& out, const Unsubscribe& p);
void encode(std::string& out, const Unsuback& p);
void encode(std::string& out, const Pingreq& p);
void encode(std::string& out, const Pingresp& p);
void encode(std::string& out, const Disconnect& p);
void encode(std::string& out, const Packet& p);

// The Remaining Length field (2.2.3) for n <= kMaxRemainingLength: 1 to 4 bytes, the fewest that hold n.
void encode_remaining_length(std::string& out, std::size_t n);

}  // namespace chatbus::mqtt
