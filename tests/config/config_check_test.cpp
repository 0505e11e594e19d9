// `capchan config check`: each mistake it looks for, in its own test, with
// the exact `file:line: key: ...` line it reports.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "capchan/config/config_check.hpp"
#include "capchan/core/crypto/key_file.hpp"

using namespace capchan::config;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> handlers = {"echo", "kvs"};

// A strong verifier (t=2, 64 MiB) with made-up keys: check reads only its form.
const std::string strong =
    "scram-argon2id$v=1$t=2,m=67108864$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

class checked_file {
 public:
  explicit checked_file(const std::string& text) {
    std::string pattern = (fs::temp_directory_path() / "capchan-check-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    std::ofstream(path()) << text;
  }
  ~checked_file() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path path() const { return dir_ / "server.toml"; }
  const fs::path& dir() const { return dir_; }
  check_report check() const { return check_config(path(), handlers); }
  std::string at(std::size_t line, const std::string& rest) const {
    return path().string() + ":" + std::to_string(line) + ": " + rest;
  }

 private:
  fs::path dir_;
};

std::string service(const std::string& name, const std::string& handler, const std::string& secret_line) {
  return "[[service]]\nname = \"" + name + "\"\nhandler = \"" + handler + "\"\n" + secret_line + "\n";
}

std::vector<std::string> lines(const std::vector<config_problem>& problems) {
  std::vector<std::string> out;
  for (const auto& p : problems) out.push_back(p.to_string());
  return out;
}

}  // namespace

TEST_CASE("check: a clean config has no problem", "[config][check]") {
  checked_file f("port = 1234\nbind = \"127.0.0.1\"\n\n" + service("e", "echo", "verifier = \"" + strong + "\""));
  const auto r = f.check();
  CHECK(r.errors.empty());
  CHECK(r.warnings.empty());
}

TEST_CASE("check: a plaintext password", "[config][check]") {
  checked_file f("port = 1\n\n" + service("e", "echo", "password = \"secret\""));
  const auto r = f.check();
  CHECK(r.errors.empty());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].to_string() ==
        f.at(6, "service[0].password: plaintext password: anyone who reads this file can log in; replace it with "
                "a verifier (`capchan config passwd NAME`)"));
}

TEST_CASE("check: a bind address other than loopback", "[config][check]") {
  checked_file f("port = 1\n# everyone\nbind = \"0.0.0.0\"\n");
  const auto r = f.check();
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].to_string().starts_with(f.at(3, "bind: listens on \"0.0.0.0\", not only on loopback")));
  checked_file v6("bind = \"::1\"\n");
  CHECK(v6.check().warnings.empty());
}

TEST_CASE("check: weak argon2id parameters", "[config][check]") {
  const std::string weak_verifier =
      "scram-argon2id$v=1$t=1,m=8192$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  checked_file f(service("a", "echo", "verifier = \"" + strong + "\"") + "\n" +
                 service("b", "echo", "verifier = \"" + weak_verifier + "\""));
  const auto r = f.check();
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].to_string() ==
        f.at(9, "service[1].verifier: weak argon2id parameters (t=1, m=8KiB): a leaked config is cheaper to "
                 "attack; use at least t=2, m=64MiB (`capchan config passwd` writes those)"));
}

TEST_CASE("check: weak argon2id parameters of a plaintext password", "[config][check]") {
  checked_file f(service("a", "echo", "password = \"x\"\nargon2id_ops = 1"));
  const auto r = f.check();
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[1].to_string().starts_with(f.at(5, "service[0].argon2id_ops: weak argon2id parameters (t=1, m=64MiB)")));
}

TEST_CASE("check: a handler the server does not know", "[config][check]") {
  checked_file f(service("a", "echo", "verifier = \"" + strong + "\"") + "\n" +
                 service("b", "kvz", "verifier = \"" + strong + "\""));
  const auto r = f.check();
  CHECK(r.errors.empty());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].to_string() ==
        f.at(8, "service[1].handler: the server knows no handler \"kvz\" (known: echo, kvs)"));
}

TEST_CASE("check: duplicate service names", "[config][check]") {
  checked_file f(service("a", "echo", "verifier = \"" + strong + "\"") + "\n" +
                 service("a", "echo", "verifier = \"" + strong + "\""));
  const auto r = f.check();
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].to_string() == f.at(6, "service[1].name: service \"a\" is defined twice"));
}

TEST_CASE("check: an unreadable key file", "[config][check]") {
  checked_file f("port = 1\nkey_file = \"keydir\"\n");
  fs::create_directory(f.dir() / "keydir");  // readable by no one as a file, root included
  const auto r = f.check();
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].to_string().starts_with(f.at(2, "key_file: cannot be used: ")));
}

TEST_CASE("check: a key file readable by others", "[config][check]") {
  checked_file f("port = 1\n\nkey_file = \"server.key\"\n");
  const auto key = f.dir() / "server.key";
  REQUIRE(capchan::crypto::create_key_file(key).has_value());
  CHECK(f.check().warnings.empty());  // 0600 as created
  fs::permissions(key, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  const auto r = f.check();
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].to_string() ==
        f.at(3, "key_file: '" + key.string() +
                    "' may be read by group or others: run chmod 600 on it (whoever reads it can pose as this "
                    "server)"));
}

TEST_CASE("check: errors and warnings together, each on its line", "[config][check]") {
  checked_file f("port = 1\nbind = \"10.0.0.1\"\nmystery = 3\n\n" + service("a", "nope", "password = \"x\""));
  const auto r = f.check();
  CHECK(lines(r.errors) == std::vector<std::string>{f.at(3, "mystery: unknown key")});
  REQUIRE(r.warnings.size() == 3);
  CHECK(r.warnings[0].line == 2);
  CHECK(r.warnings[1].line == 7);
  CHECK(r.warnings[2].line == 8);
}
