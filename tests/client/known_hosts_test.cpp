// known_hosts: trust on first use, then strict (DESIGN.md §3).
#include <unistd.h>

#include <catch2/catch.hpp>

#include "capchan/client/known_hosts.hpp"
#include "client_test_support.hpp"

using namespace capchan::client;
using capchan::test::read_file;
using capchan::test::temp_dir;
using capchan::test::write_file;

namespace {
const std::string fp_a = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const std::string fp_b = "SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
}  // namespace

TEST_CASE("known_hosts records a first key, then matches it", "[client]") {
  temp_dir dir;
  const auto file = dir / "sub" / "known_hosts";  // the folder is created too
  known_hosts hosts(file);

  auto first = hosts.check("127.0.0.1:1234", fp_a);
  REQUIRE_RESULT(first);
  CHECK(first->what == known_hosts::outcome::recorded);
  CHECK(first->line == 2);  // after the header comment
  CHECK_THAT(read_file(file), Catch::Contains("127.0.0.1:1234 " + fp_a + "\n"));

  auto again = hosts.check("127.0.0.1:1234", fp_a);
  REQUIRE_RESULT(again);
  CHECK(again->what == known_hosts::outcome::matched);
  CHECK(again->line == 2);

  auto other = hosts.check("[::1]:1234", fp_b);
  REQUIRE_RESULT(other);
  CHECK(other->what == known_hosts::outcome::recorded);
  CHECK(other->line == 3);
  CHECK(hosts.find("[::1]:1234").value() == fp_b);
  CHECK(hosts.find("host:1").value().empty());

  // Atomic writes leave no temporary file behind.
  std::size_t files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir / "sub")) ++files;
  CHECK(files == 1);
}

TEST_CASE("known_hosts refuses a changed key and says which line to remove", "[client]") {
  temp_dir dir;
  const auto file = dir / "known_hosts";
  write_file(file, "# mine\n\nother:1 " + fp_b + "\n127.0.0.1:1234 " + fp_a + "\n");
  auto r = known_hosts(file).check("127.0.0.1:1234", fp_b);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::server_key_mismatch);
  const std::string m = r.error().message();
  CHECK_THAT(m, Catch::StartsWith("server key mismatch: 127.0.0.1:1234 presented the key " + fp_b));
  CHECK_THAT(m, Catch::Contains("records " + fp_a));
  CHECK_THAT(m, Catch::Contains("remove line 4 from '" + file.string() + "'"));
  // The file is untouched.
  CHECK(read_file(file) == "# mine\n\nother:1 " + fp_b + "\n127.0.0.1:1234 " + fp_a + "\n");
}

TEST_CASE("known_hosts appends to a file without a final newline, keeping comments", "[client]") {
  temp_dir dir;
  const auto file = dir / "known_hosts";
  write_file(file, "# keep me\nother:1 " + fp_b);
  auto r = known_hosts(file).check("h:2", fp_a);
  REQUIRE_RESULT(r);
  CHECK(r->line == 3);
  CHECK(read_file(file) == "# keep me\nother:1 " + fp_b + "\nh:2 " + fp_a + "\n");
}

TEST_CASE("a malformed known_hosts line is an error, not a silent re-trust", "[client]") {
  temp_dir dir;
  const auto file = dir / "known_hosts";
  write_file(file, "127.0.0.1:1234 " + fp_a + "\n127.0.0.1:1234\n");
  auto r = known_hosts(file).check("127.0.0.1:1234", fp_a);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == errc::known_hosts_error);
  CHECK_THAT(r.error().message(), Catch::Contains("line 2"));
}

TEST_CASE("an unwritable known_hosts trusts for this connection only", "[client]") {
  if (::geteuid() == 0) {
    WARN("skipped: running as root, permissions do not stop writes");
    return;
  }
  temp_dir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  auto r = known_hosts(dir / "known_hosts").check("h:1", fp_a);
  REQUIRE_RESULT(r);
  CHECK(r->what == known_hosts::outcome::not_recorded);
  CHECK_THAT(r->problem, Catch::Contains("cannot write"));
}

TEST_CASE("known_hosts default path follows XDG_CONFIG_HOME, then HOME", "[client]") {
  const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
  const std::string saved = old_xdg ? old_xdg : "";
  ::setenv("XDG_CONFIG_HOME", "/tmp/xdg", 1);
  CHECK(known_hosts::default_path() == "/tmp/xdg/capchan/known_hosts");
  ::unsetenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (home && *home) CHECK(known_hosts::default_path() == std::filesystem::path(home) / ".config/capchan/known_hosts");
  if (old_xdg) ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
}
