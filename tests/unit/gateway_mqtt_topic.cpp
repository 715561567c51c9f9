// Topic names, filters and matching (MQTT 3.1.1, 4.7), and MQTT's UTF-8 rule (1.5.3). The quoted sentences
// and examples are the spec's.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>

#include "gateway/mqtt_topic.hpp"
#include "gateway/mqtt_utf8.hpp"

using namespace chatbus::mqtt;
using namespace std::string_literals;

// "The character data in a UTF-8 encoded string MUST be well-formed UTF-8 as defined by the Unicode
// specification and restated in RFC 3629. In particular this data MUST NOT include encodings of code points
// between U+D800 and U+DFFF." [MQTT-1.5.3-1]
TEST_CASE("valid_mqtt_utf8: well-formed UTF-8 passes") {
    CHECK(valid_mqtt_utf8(""));
    CHECK(valid_mqtt_utf8("plain ascii/~"));
    CHECK(valid_mqtt_utf8("caf\xC3\xA9"));       // U+00E9
    CHECK(valid_mqtt_utf8("\xC2\x80"));          // U+0080, the smallest two-byte value
    CHECK(valid_mqtt_utf8("\xDF\xBF"));          // U+07FF
    CHECK(valid_mqtt_utf8("\xE0\xA0\x80"));      // U+0800
    CHECK(valid_mqtt_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
    CHECK(valid_mqtt_utf8("\xEE\x80\x80"));      // U+E000, just above them
    CHECK(valid_mqtt_utf8("\xEF\xBB\xBF"));      // U+FEFF "MUST NOT be skipped or stripped"
    CHECK(valid_mqtt_utf8("\xF0\x90\x80\x80"));  // U+10000
    CHECK(valid_mqtt_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
    CHECK(valid_mqtt_utf8("\xF0\xAA\x9B\x94"));  // the spec's example, U+2A6D4
    // SHOULD NOT only (1.5.3): control characters other than U+0000 and the non-characters are accepted.
    CHECK(valid_mqtt_utf8("\x01\x1F\x7F"));
    CHECK(valid_mqtt_utf8("\xC2\x9F"));      // U+009F
    CHECK(valid_mqtt_utf8("\xEF\xBF\xBF"));  // U+FFFF
}

TEST_CASE("valid_mqtt_utf8: U+0000, surrogates and ill-formed sequences fail") {
    CHECK_FALSE(valid_mqtt_utf8("\0"s));  // [MQTT-1.5.3-2]
    CHECK_FALSE(valid_mqtt_utf8("a\0b"s));
    CHECK_FALSE(valid_mqtt_utf8("\xC0\x80"));          // overlong U+0000
    CHECK_FALSE(valid_mqtt_utf8("\xED\xA0\x80"));      // U+D800
    CHECK_FALSE(valid_mqtt_utf8("\xED\xBF\xBF"));      // U+DFFF
    CHECK_FALSE(valid_mqtt_utf8("\xC1\xBF"));          // overlong two-byte
    CHECK_FALSE(valid_mqtt_utf8("\xE0\x9F\xBF"));      // overlong three-byte
    CHECK_FALSE(valid_mqtt_utf8("\xF0\x8F\xBF\xBF"));  // overlong four-byte
    CHECK_FALSE(valid_mqtt_utf8("\xF4\x90\x80\x80"));  // U+110000
    CHECK_FALSE(valid_mqtt_utf8("\xF5\x80\x80\x80"));
    CHECK_FALSE(valid_mqtt_utf8("\xFF"));
    CHECK_FALSE(valid_mqtt_utf8("\x80"));     // a continuation byte alone
    CHECK_FALSE(valid_mqtt_utf8("caf\xC3"));  // cut short at the end
    CHECK_FALSE(valid_mqtt_utf8("\xE2\x82"));
    CHECK_FALSE(valid_mqtt_utf8("\xF0\x9F\x98"));
    CHECK_FALSE(valid_mqtt_utf8("\xE2\x28\xA1"));  // a bad continuation byte
    CHECK_FALSE(valid_mqtt_utf8("\xF0\x9F\x98\x28"));
}

TEST_CASE("valid_mqtt_utf8: every single byte") {
    for (int b = 0; b < 256; ++b) {
        CAPTURE(b);
        CHECK(valid_mqtt_utf8(std::string(1, static_cast<char>(b))) == (b >= 1 && b <= 0x7F));
    }
}

// "All Topic Names and Topic Filters MUST be at least one character long" [MQTT-4.7.3-1]; "The wildcard
// characters can be used in Topic Filters, but MUST NOT be used within a Topic Name" [MQTT-4.7.1-1].
TEST_CASE("valid_topic_name") {
    CHECK(valid_topic_name("a"));
    CHECK(valid_topic_name("sport/tennis/player1"));
    CHECK(valid_topic_name("/"));  // two empty levels
    CHECK(valid_topic_name("/finance"));
    CHECK(valid_topic_name("a//b"));
    CHECK(valid_topic_name("$SYS/broker"));
    CHECK(valid_topic_name("with space"));  // "Topic Names ... can include the space character"
    CHECK(valid_topic_name("caf\xC3\xA9"));
    CHECK_FALSE(valid_topic_name(""));
    CHECK_FALSE(valid_topic_name("+"));
    CHECK_FALSE(valid_topic_name("#"));
    CHECK_FALSE(valid_topic_name("sport/+/player1"));
    CHECK_FALSE(valid_topic_name("sport/#"));
    CHECK_FALSE(valid_topic_name("a+b"));
    CHECK_FALSE(valid_topic_name("a\0b"s));
    CHECK_FALSE(valid_topic_name("\xED\xA0\x80"));
}

TEST_CASE("valid_topic_name and valid_topic_filter: length bounds") {
    CHECK(valid_topic_name(std::string(8, 'a'), 8));
    CHECK_FALSE(valid_topic_name(std::string(9, 'a'), 8));
    CHECK(valid_topic_filter(std::string(8, 'a'), 8));
    CHECK_FALSE(valid_topic_filter(std::string(9, 'a'), 8));
    CHECK(valid_topic_name(std::string(65535, 'a')));  // a UTF-8 string holds at most 65,535 bytes
    CHECK_FALSE(valid_topic_name(std::string(65536, 'a')));
    CHECK_FALSE(valid_topic_name(std::string(65536, 'a'), 100000));
    CHECK_FALSE(valid_topic_filter(std::string(65536, 'a'), 100000));
}

// "The multi-level wildcard character MUST be specified either on its own or following a topic level
// separator. In either case it MUST be the last character specified in the Topic Filter" [MQTT-4.7.1-2];
// "The single-level wildcard can be used at any level in the Topic Filter, including first and last levels.
// Where it is used it MUST occupy an entire level of the filter" [MQTT-4.7.1-3].
TEST_CASE("valid_topic_filter: the spec's examples") {
    CHECK(valid_topic_filter("sport/tennis/#"));
    CHECK(valid_topic_filter("#"));
    CHECK(valid_topic_filter("sport/#"));
    CHECK_FALSE(valid_topic_filter("sport/tennis#"));
    CHECK_FALSE(valid_topic_filter("sport/tennis/#/ranking"));
    CHECK(valid_topic_filter("+"));
    CHECK(valid_topic_filter("+/tennis/#"));
    CHECK_FALSE(valid_topic_filter("sport+"));
    CHECK(valid_topic_filter("sport/+/player1"));
    CHECK(valid_topic_filter("/+"));
    CHECK(valid_topic_filter("+/+"));
}

TEST_CASE("valid_topic_filter: edge cases") {
    CHECK_FALSE(valid_topic_filter(""));
    CHECK(valid_topic_filter("/"));
    CHECK(valid_topic_filter("a//b"));
    CHECK(valid_topic_filter("+/"));
    CHECK(valid_topic_filter("/#"));
    CHECK(valid_topic_filter("+/#"));
    CHECK(valid_topic_filter("$SYS/#"));
    CHECK_FALSE(valid_topic_filter("#/"));
    CHECK_FALSE(valid_topic_filter("##"));
    CHECK_FALSE(valid_topic_filter("++"));
    CHECK_FALSE(valid_topic_filter("a/#b"));
    CHECK_FALSE(valid_topic_filter("a/b#"));
    CHECK_FALSE(valid_topic_filter("+a/b"));
    CHECK_FALSE(valid_topic_filter("a/+b"));
    CHECK_FALSE(valid_topic_filter("#/#"));
    CHECK_FALSE(valid_topic_filter("a\0b"s));
    CHECK_FALSE(valid_topic_filter("\xC3"));
}

// 4.7.1.2: "if a Client subscribes to "sport/tennis/player1/#", it would receive messages published using
// these topic names: "sport/tennis/player1", "sport/tennis/player1/ranking",
// "sport/tennis/player1/score/wimbledon""; ""sport/#" also matches the singular "sport"".
TEST_CASE("topic_matches: multi-level wildcard") {
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
    CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
    CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis/player2"));
    CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis"));
    CHECK(topic_matches("sport/#", "sport"));
    CHECK(topic_matches("sport/#", "sport/"));
    CHECK_FALSE(topic_matches("sport/#", "sports"));
    CHECK(topic_matches("#", "a"));
    CHECK(topic_matches("#", "a/b/c"));
    CHECK(topic_matches("#", "/"));
    CHECK(topic_matches("/#", "/"));
    CHECK(topic_matches("/#", "/a"));
    CHECK_FALSE(topic_matches("/#", "a"));
    CHECK(topic_matches("a/#", "a"));
    CHECK(topic_matches("a/#", "a/b/c/d"));
    CHECK_FALSE(topic_matches("a/b/#", "a"));
}

// 4.7.1.3: ""sport/tennis/+" matches "sport/tennis/player1" and "sport/tennis/player2", but not
// "sport/tennis/player1/ranking". Also, because the single-level wildcard matches only a single level,
// "sport/+" does not match "sport" but it does match "sport/""; ""+/+" and "/+" [match "/finance"], "+" does
// not".
TEST_CASE("topic_matches: single-level wildcard") {
    CHECK(topic_matches("sport/tennis/+", "sport/tennis/player1"));
    CHECK(topic_matches("sport/tennis/+", "sport/tennis/player2"));
    CHECK_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
    CHECK_FALSE(topic_matches("sport/+", "sport"));
    CHECK(topic_matches("sport/+", "sport/"));
    CHECK(topic_matches("+/+", "/finance"));
    CHECK(topic_matches("/+", "/finance"));
    CHECK_FALSE(topic_matches("+", "/finance"));
    CHECK(topic_matches("+", "a"));
    CHECK(topic_matches("+/tennis/#", "sport/tennis"));
    CHECK(topic_matches("+/tennis/#", "sport/tennis/x/y"));
    CHECK_FALSE(topic_matches("+/tennis/#", "sport/golf"));
    CHECK(topic_matches("a/+/c", "a//c"));
    CHECK_FALSE(topic_matches("a/+/c", "a/c"));
    CHECK(topic_matches("+/+/+", "a/b/c"));
    CHECK_FALSE(topic_matches("+/+/+", "a/b"));
    CHECK_FALSE(topic_matches("+/+", "a/b/c"));
}

TEST_CASE("topic_matches: literal levels are compared exactly") {
    CHECK(topic_matches("a/b", "a/b"));
    CHECK_FALSE(topic_matches("a/b", "a/b/"));
    CHECK_FALSE(topic_matches("a/b/", "a/b"));
    CHECK_FALSE(topic_matches("a/b", "a/bc"));
    CHECK_FALSE(topic_matches("a/bc", "a/b"));
    CHECK_FALSE(topic_matches("ACCOUNTS", "Accounts"));  // "Topic Names and Topic Filters are case sensitive"
    CHECK_FALSE(topic_matches("/a", "a"));
    CHECK(topic_matches("/", "/"));
    CHECK(topic_matches("caf\xC3\xA9/+", "caf\xC3\xA9/x"));
}

// "The Server MUST NOT match Topic Filters starting with a wildcard character (# or +) with Topic Names
// beginning with a $ character" [MQTT-4.7.2-1]; 4.7.2's examples.
TEST_CASE("topic_matches: topics starting with $") {
    CHECK_FALSE(topic_matches("#", "$SYS/broker/clients"));
    CHECK_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
    CHECK_FALSE(topic_matches("+", "$SYS"));
    CHECK(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
    CHECK(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
    CHECK(topic_matches("$SYS/#", "$SYS"));
    CHECK(topic_matches("a/#", "a/$b"));  // only a leading $ is special
    CHECK(topic_matches("#", "a$"));
}
