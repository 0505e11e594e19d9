// The server key file: created 0600 once, read back to the same key, and
// damaged files refused with the file named.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "capchan/core/crypto/key_file.hpp"

namespace fs = std::filesystem;
using namespace capchan::crypto;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "capchan-key-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("a key file is created 0600 and loads back to the same key", "[key_file]") {
  temp_dir dir;
  const fs::path file = dir.path / "server.key";
  bool created = false;
  const auto first = load_or_create_key_file(file, created);
  REQUIRE(first.has_value());
  CHECK(created);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(readable_by_others(file));

  const auto second = load_or_create_key_file(file, created);
  REQUIRE(second.has_value());
  CHECK_FALSE(created);
  CHECK(second->public_key() == first->public_key());
  CHECK(noise::fingerprint(second->public_key()) == noise::fingerprint(first->public_key()));

  // create refuses to overwrite an existing key.
  const auto again = create_key_file(file);
  REQUIRE_FALSE(again.has_value());
  CHECK_THAT(again.error(), Catch::Contains("cannot create"));
  CHECK(load_key_file(file)->public_key() == first->public_key());

  ::chmod(file.c_str(), 0644);
  CHECK(readable_by_others(file));
}

TEST_CASE("two keys differ", "[key_file]") {
  temp_dir dir;
  const auto a = create_key_file(dir.path / "a.key");
  const auto b = create_key_file(dir.path / "b.key");
  REQUIRE((a.has_value() && b.has_value()));
  CHECK(a->public_key() != b->public_key());
}

TEST_CASE("damaged key files are refused with the file named", "[key_file]") {
  temp_dir dir;
  const fs::path file = dir.path / "bad.key";
  auto error_of = [&](const std::string& text) {
    write(file, text);
    auto r = load_key_file(file);
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK_THAT(error_of(""), Catch::StartsWith("key file " + file.string() + ": no key line"));
  CHECK_THAT(error_of("# only a comment\n"), Catch::Contains("no key line"));
  CHECK_THAT(error_of("ssh-ed25519 AAAA\n"), Catch::Contains("not a capchan key file"));
  CHECK_THAT(error_of("capchan-server-key-v1 AAAA\n"), Catch::Contains("not 32 bytes of base64"));
  CHECK_THAT(error_of("capchan-server-key-v1 " + std::string(43, 'A') + "=\ncapchan-server-key-v1 x\n"),
             Catch::Contains("not a capchan key file"));
  CHECK_THAT(error_of(std::string(5000, '#')), Catch::Contains("too large"));
  const auto missing = load_key_file(dir.path / "missing.key");
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error(), Catch::Contains("cannot read"));
  // A valid file for contrast: 32 zero bytes are 43 'A's and one '='.
  write(file, "# c\ncapchan-server-key-v1 " + std::string(43, 'A') + "=\n");
  CHECK(load_key_file(file).has_value());
}
