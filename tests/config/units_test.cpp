// Durations and sizes as the config writes them.
#include <catch2/catch.hpp>

#include "capchan/config/units.hpp"

using namespace capchan::config;
using namespace std::chrono_literals;

TEST_CASE("durations", "[config]") {
  CHECK(parse_duration("10s") == 10s);
  CHECK(parse_duration("250ms") == 250ms);
  CHECK(parse_duration("2m") == 2min);
  CHECK(parse_duration("1h") == 1h);
  CHECK(parse_duration("0s") == 0ms);
  for (const char* bad : {"", "s", "10", "10 s", "1.5s", "-1s", "10sec", "10S", "99999999999999999999s"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
  CHECK_FALSE(parse_duration("9223372036854775807h"));  // overflows milliseconds
  CHECK(format_duration(60s) == "1m");
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(0ms) == "0ms");
}

TEST_CASE("sizes", "[config]") {
  CHECK(parse_size("1MiB") == 1048576u);
  CHECK(parse_size("512KiB") == 524288u);
  CHECK(parse_size("8MiB") == 8388608u);
  CHECK(parse_size("1GiB") == 1073741824u);
  CHECK(parse_size("64B") == 64u);
  CHECK(parse_size("4096") == 4096u);
  for (const char* bad : {"", "MiB", "1 MiB", "1MB", "1mib", "1.5MiB", "-1", "18446744073709551615GiB"}) {
    INFO(bad);
    CHECK_FALSE(parse_size(bad));
  }
  CHECK(format_size(1048576) == "1MiB");
  CHECK(format_size(1000) == "1000B");
}
