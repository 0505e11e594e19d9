// Edits keep a hand-written config byte for byte except the lines they must
// change (DESIGN.md §6: keep the user's comments), and the atomic write
// refuses a file that changed since it was read.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "capchan/config/config_edit.hpp"
#include "capchan/config/config_file.hpp"
#include "capchan/config/server_config.hpp"

using namespace capchan::config;
namespace fs = std::filesystem;

namespace {

const fs::path file = "/etc/capchan/server.toml";

// A file as a person writes one: comments everywhere, odd spacing, a
// plaintext password with its argon2id cost, args as a sub-table.
constexpr const char* hand_written = R"(# my server
port = 1234   # the usual port
bind = "127.0.0.1"

[limits]
idle_timeout = "90s"  # slow clients

# The book's name server.
[[service]]
name = "nameServer"
password   =   "ABXy45"   # change me
handler = "kvs"
argon2id_ops = 1
argon2id_mem = "8KiB"   # cheap, for tests
args = { path = "names.db" }

# Echo, for testing.
[[service]]
name = "echo"
verifier = "scram-argon2id$v=1$t=2,m=67108864$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
handler = "echo"

# The end.
)";

const std::string new_verifier =
    "scram-argon2id$v=1$t=2,m=67108864$AQEBAQEBAQEBAQEBAQEBAQ==$AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=$"
    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

config_text parsed(const std::string& text) {
  auto doc = config_text::parse(text, file);
  REQUIRE(doc.has_value());
  return std::move(*doc);
}

std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

struct temp_folder {
  temp_folder() {
    std::string pattern = (fs::temp_directory_path() / "capchan-config-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_folder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("add appends one block and changes no other byte", "[config][edit]") {
  auto doc = parsed(hand_written);
  REQUIRE(doc.add_service({"names2", "kvs", new_verifier, "{ path = \"n2.db\" }"}).has_value());
  const std::string expected = std::string(hand_written) + "\n[[service]]\nname = \"names2\"\nhandler = \"kvs\"\n" +
                               "verifier = \"" + new_verifier + "\"\nargs = { path = \"n2.db\" }\n";
  CHECK(doc.text() == expected);
  auto loaded = parse_config(doc.text(), file);
  REQUIRE(loaded.has_value());
  CHECK(loaded->services.size() == 3);
}

TEST_CASE("add to a file without a final newline or blank line", "[config][edit]") {
  auto doc = parsed("port = 1");
  REQUIRE(doc.add_service({"e", "echo", new_verifier, ""}).has_value());
  CHECK(doc.text() == "port = 1\n\n[[service]]\nname = \"e\"\nhandler = \"echo\"\nverifier = \"" + new_verifier + "\"\n");
}

TEST_CASE("add refuses a name that exists and args that are not TOML", "[config][edit]") {
  auto doc = parsed(hand_written);
  auto dup = doc.add_service({"echo", "echo", new_verifier, ""});
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().find("exists already") != std::string::npos);
  auto bad = doc.add_service({"x", "echo", new_verifier, "{ path = "});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().find("--args") != std::string::npos);
  CHECK(doc.text() == hand_written);
}

TEST_CASE("passwd replaces a plaintext password in place and drops its argon2id cost", "[config][edit]") {
  auto doc = parsed(hand_written);
  REQUIRE(doc.set_verifier("nameServer", new_verifier).has_value());
  std::string expected = replace_once(hand_written, "password   =   \"ABXy45\"   # change me",
                                      "verifier = \"" + new_verifier + "\"   # change me");
  expected = replace_once(expected, "argon2id_ops = 1\n", "");
  expected = replace_once(expected, "argon2id_mem = \"8KiB\"   # cheap, for tests\n", "");
  CHECK(doc.text() == expected);
  REQUIRE(parse_config(doc.text(), file).has_value());
}

TEST_CASE("passwd replaces only the verifier's value", "[config][edit]") {
  auto doc = parsed(hand_written);
  REQUIRE(doc.set_verifier("echo", new_verifier).has_value());
  const std::string old_value =
      "scram-argon2id$v=1$t=2,m=67108864$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$"
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  CHECK(doc.text() == replace_once(hand_written, old_value, new_verifier));
}

TEST_CASE("remove deletes the service's lines and the comment above it, nothing else", "[config][edit]") {
  auto doc = parsed(hand_written);
  REQUIRE(doc.remove_service("nameServer").has_value());
  const std::string removed = R"(# The book's name server.
[[service]]
name = "nameServer"
password   =   "ABXy45"   # change me
handler = "kvs"
argon2id_ops = 1
argon2id_mem = "8KiB"   # cheap, for tests
args = { path = "names.db" }

)";
  CHECK(doc.text() == replace_once(hand_written, removed, ""));

  auto last = parsed(hand_written);
  REQUIRE(last.remove_service("echo").has_value());
  const std::string removed_last = R"(# Echo, for testing.
[[service]]
name = "echo"
verifier = "scram-argon2id$v=1$t=2,m=67108864$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
handler = "echo"

)";
  CHECK(last.text() == replace_once(hand_written, removed_last, ""));
}

TEST_CASE("remove takes a service's sub-tables with it", "[config][edit]") {
  auto doc = parsed("[[service]]\nname = \"a\"\n[service.args]\npath = \"x\"\n\n[[service]]\nname = \"b\"\n");
  REQUIRE(doc.remove_service("a").has_value());
  CHECK(doc.text() == "[[service]]\nname = \"b\"\n");
}

TEST_CASE("edits refuse unknown services and inline service tables", "[config][edit]") {
  auto doc = parsed(hand_written);
  CHECK_FALSE(doc.remove_service("nobody").has_value());
  CHECK_FALSE(doc.set_verifier("nobody", new_verifier).has_value());
  auto inline_doc = parsed("service = [{ name = \"a\", handler = \"echo\", password = \"x\" }]\n");
  auto r = inline_doc.remove_service("a");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().find("inline table") != std::string::npos);
}

TEST_CASE("toml_quote escapes what a TOML basic string needs", "[config][edit]") {
  CHECK(toml_quote("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\u0001\"");
  CHECK(toml_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
}

TEST_CASE("replace_config_file keeps the mode and refuses a file changed since it was read", "[config][file]") {
  temp_folder dir;
  const auto path = dir.path / "server.toml";
  write(path, "port = 1\n");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  auto snap = read_config_file(path);
  REQUIRE(snap.has_value());
  REQUIRE(replace_config_file(path, *snap, "port = 2\n").has_value());
  CHECK(read(path) == "port = 2\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);

  auto stale = read_config_file(path);
  REQUIRE(stale.has_value());
  write(path, "port = 3\n");  // another editor saves meanwhile
  auto r = replace_config_file(path, *stale, "port = 4\n");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().find("changed while it was being edited") != std::string::npos);
  CHECK(read(path) == "port = 3\n");
  // No temporary file is left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);
}

TEST_CASE("create_new_file never overwrites", "[config][file]") {
  temp_folder dir;
  const auto path = dir.path / "new.toml";
  REQUIRE(create_new_file(path, "a = 1\n", 0600).has_value());
  auto again = create_new_file(path, "b = 2\n", 0600);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().find("exists already") != std::string::npos);
  CHECK(read(path) == "a = 1\n");
}
