// The reload status file that capchan-server writes and `capchan config
// reload` reads: what one writes the other reads back, and a torn or foreign
// file is not mistaken for a status.
#include <catch2/catch.hpp>

#include "capchan/config/server_state.hpp"

using namespace capchan::config;

TEST_CASE("a reload status reads back as written", "[config][state]") {
  reload_status s;
  s.generation = 7;
  s.ok = false;
  s.notes = {"/etc/capchan/server.toml:3: mystery: unknown key", "second"};
  const auto text = format_reload_status(s);
  CHECK(text == "generation 7\nfailed\n/etc/capchan/server.toml:3: mystery: unknown key\nsecond\n");
  const auto back = parse_reload_status(text);
  REQUIRE(back.has_value());
  CHECK(back->generation == 7);
  CHECK_FALSE(back->ok);
  CHECK(back->notes == s.notes);
  CHECK(parse_reload_status("generation 0\nok\n").has_value());
}

TEST_CASE("a torn or foreign status file is refused", "[config][state]") {
  CHECK_FALSE(parse_reload_status("").has_value());
  CHECK_FALSE(parse_reload_status("generation 3\nok").has_value());  // no final newline: torn
  CHECK_FALSE(parse_reload_status("generation x\nok\n").has_value());
  CHECK_FALSE(parse_reload_status("generation 3\nmaybe\n").has_value());
  CHECK_FALSE(parse_reload_status("hello\n").has_value());
}

TEST_CASE("the pid and status files live in data_dir", "[config][state]") {
  server_config c;
  c.data_dir = "/var/lib/capchan";
  CHECK(pid_file_path(c) == "/var/lib/capchan/capchan-server.pid");
  CHECK(reload_status_path(c) == "/var/lib/capchan/capchan-server.reload");
}
