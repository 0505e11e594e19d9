// The kvs data file (docs/kvs.md "The file"): what survives a restart, and
// the files the server refuses to start with, each refusal naming the file.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>

#include "capchan/core/etf.hpp"
#include "kvs_fixture.hpp"

using namespace capchan;
using namespace capchan::test;

namespace {

// The one error of a server that refuses to start.
std::string refusal(const std::filesystem::path& data_dir, term args) {
  const auto errors = start_errors(kvs_config(data_dir, std::move(args)));
  REQUIRE(errors.size() == 1);
  return errors.front();
}

void write_bytes(const std::filesystem::path& p, const std::string& bytes, std::streamoff at = 0) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) f.open(p, std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A store with some data, closed cleanly (the WAL folded into the file).
void fill(const std::filesystem::path& dir, int keys) {
  kvs_server s(dir, kvs_args());
  auto ch = s.connect();
  for (int i = 0; i < keys; ++i) {
    REQUIRE(call(ch, tuple(atom("put"), i, binary(std::vector<std::uint8_t>(200, 'v')))) ==
            term(atom("ok")));
  }
}

}  // namespace

TEST_CASE("kvs file: a clean restart keeps every key, the revision and the history", "[kvs]") {
  scratch_dir dir;
  {
    kvs_server s(dir.path(), kvs_args());
    auto ch = s.connect();
    for (int i = 0; i < 100; ++i)
      REQUIRE(call(ch, tuple(atom("put"), i, tuple(atom("v"), i))) == term(atom("ok")));
    REQUIRE(call(ch, parse("{delete, 7}")) == term(atom("ok")));
    REQUIRE(ch.cast(parse("{store, joe, book}")).has_value());
    REQUIRE(show(call(ch, parse("{lookup, joe}"))) == "{ok,book}");
  }
  kvs_server s(dir.path(), kvs_args());
  auto ch = s.connect();
  for (int i = 0; i < 100; ++i) {
    CHECK(call(ch, tuple(atom("lookup"), i)) ==
          (i == 7 ? term(atom("undefined")) : tuple(atom("ok"), tuple(atom("v"), i))));
  }
  CHECK(show(call(ch, parse("{lookup, joe}"))) == "{ok,book}");
  // Revisions go on from where they were: 100 puts, a delete, a store.
  CHECK(call(ch, parse("{watch, '_'}")) == parse("{ok, 102}"));
  auto w = s.connect();
  REQUIRE(call(w, parse("{watch, '_', 101}")) == parse("{ok, 102}"));
  CHECK(show(next_push(w)) == "{kvs,101,delete,7}");
  CHECK(show(next_push(w)) == "{kvs,102,put,joe,book}");
}

TEST_CASE("kvs file: created 0600 in a data directory created 0700", "[kvs]") {
  scratch_dir dir;
  const auto data = dir.path() / "data" / "deeper";
  { kvs_server s(data, kvs_args()); }
  struct stat st {};
  REQUIRE(::stat((dir.path() / "data").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat(data.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((data / "kvs.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("kvs file: a file that is not SQLite is refused, named, and left alone", "[kvs]") {
  scratch_dir dir;
  const auto file = dir.path() / "kvs.db";
  const std::string junk = "this is not a database, it is a shopping list: eggs, milk, more eggs\n";
  std::string content;
  for (int i = 0; i < 100; ++i) content += junk;
  write_bytes(file, content);
  const std::string error = refusal(dir.path(), kvs_args());
  CHECK_THAT(error, Catch::Contains(file.string() + ": cannot be read as a SQLite database"));
  CHECK_THAT(error, Catch::Contains("handler \"kvs\" refused to start"));
  CHECK(read_bytes(file) == content);
}

TEST_CASE("kvs file: a kvs file with a damaged page is refused as corrupt", "[kvs]") {
  scratch_dir dir;
  fill(dir.path(), 300);
  const auto file = dir.path() / "kvs.db";
  REQUIRE_FALSE(std::filesystem::exists(dir.path() / "kvs.db-wal"));
  const auto size = std::filesystem::file_size(file);
  REQUIRE(size > 16 * 4096);
  write_bytes(file, std::string(4096, '\xA5'), static_cast<std::streamoff>(size / 2 / 4096 * 4096));
  const std::string error = refusal(dir.path(), kvs_args());
  INFO(error);
  CHECK_THAT(error, Catch::Contains(file.string() + ": is corrupt"));
  CHECK_THAT(error, Catch::Contains("restore it from a backup"));
}

TEST_CASE("kvs file: a damaged header is refused", "[kvs]") {
  scratch_dir dir;
  fill(dir.path(), 10);
  const auto file = dir.path() / "kvs.db";
  write_bytes(file, "SQLite format 4", 0);
  CHECK_THAT(refusal(dir.path(), kvs_args()),
             Catch::Contains(file.string() + ": cannot be read as a SQLite database"));
}

TEST_CASE("kvs file: another program's SQLite database is refused untouched", "[kvs]") {
  scratch_dir dir;
  const auto file = dir.path() / "kvs.db";
  sqlite_exec(file,
              "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT); INSERT INTO accounts "
              "VALUES (1, 'joe');");
  const std::string before = read_bytes(file);
  const std::string error = refusal(dir.path(), kvs_args());
  CHECK_THAT(error, Catch::Contains(file.string() + ": is a SQLite database of another program"));
  CHECK_THAT(error, Catch::Contains("not a capchan kvs file"));
  CHECK(read_bytes(file) == before);
}

TEST_CASE("kvs file: a kvs file of another schema version is refused", "[kvs]") {
  scratch_dir dir;
  fill(dir.path(), 3);
  const auto file = dir.path() / "kvs.db";
  sqlite_exec(file, "PRAGMA user_version = 99");
  CHECK_THAT(refusal(dir.path(), kvs_args()),
             Catch::Contains(file.string() + ": is a capchan kvs file of schema version 99"));
}

TEST_CASE("kvs file: one file cannot serve two stores", "[kvs]") {
  scratch_dir dir;
  kvs_server first(dir.path(), kvs_args());
  const std::string error = refusal(dir.path(), kvs_args());
  CHECK_THAT(error, Catch::Contains((dir.path() / "kvs.db").string() +
                                    ": is in use by another kvs store"));
  // The first one is unharmed.
  auto ch = first.connect();
  CHECK(call(ch, parse("{put, a, 1}")) == term(atom("ok")));
}

TEST_CASE("kvs file: args are checked, and typos are errors", "[kvs]") {
  scratch_dir dir;
  CHECK_THAT(refusal(dir.path(), kvs_args({{"histroy", term(5)}})),
             Catch::Contains("args: unknown key histroy"));
  CHECK_THAT(refusal(dir.path(), kvs_args({{"history", term(-1)}})),
             Catch::Contains("args.history: expected an integer"));
  CHECK_THAT(refusal(dir.path(), kvs_args({{"max_ttl", term(binary::from("soon"))}})),
             Catch::Contains("args.max_ttl"));
  CHECK_THAT(refusal(dir.path(), kvs_args({{"max_page_bytes", term(binary::from("lots"))}})),
             Catch::Contains("args.max_page_bytes"));
  CHECK_THAT(refusal(dir.path(), term(binary::from("kvs.db"))),
             Catch::Contains("args: expected a table"));
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("kvs file: a WAL journal, and keys and values stored as their ETF bytes", "[kvs]") {
  scratch_dir dir;
  const term key = parse(R"({user, <<"joe">>, 42})"), value = parse(R"(#{name => "Joe"})");
  {
    kvs_server s(dir.path(), kvs_args());
    auto ch = s.connect();
    REQUIRE(call(ch, tuple(atom("put"), key, value)) == term(atom("ok")));
  }
  // Read back by SQLite itself, as another program would.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2((dir.path() / "kvs.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT key, value FROM kv", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto blob = [&](int column) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, column));
    return std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(st, column));
  };
  CHECK(blob(0) == etf::encode(key));
  CHECK(blob(1) == etf::encode(value));
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "wal");
  sqlite3_finalize(st);
  sqlite3_close(db);
}
