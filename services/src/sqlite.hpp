// A thin RAII layer over the SQLite C API for the kvs store: a connection,
// prepared statements, and a `query` that binds, steps and always resets its
// statement (a statement left mid-step would pin a read snapshot in WAL mode).
// Errors throw sqlite::error with SQLite's own message. A connection is used
// by one thread at a time (connections are opened SQLITE_OPEN_NOMUTEX).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace capchan::services::sqlite {

class error : public std::runtime_error {
 public:
  error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

class connection {
 public:
  enum class mode { read_write_create, read_only };
  // An empty path opens a private in-memory database.
  connection(const std::filesystem::path& path, mode m);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Runs statements that return no rows we need.
  void exec(const char* sql);
  // The first column of the first row of `sql` as an integer (PRAGMAs).
  std::int64_t scalar(const char* sql);
  // The first column of the first row of `sql` as text ("" when no row).
  std::string text(const char* sql);
  std::int64_t last_insert_rowid() const;
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class statement {
 public:
  statement(const connection& db, std::string_view sql);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

 private:
  friend class query;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// One use of a statement: bind, step through the rows, reset on destruction.
class query {
 public:
  explicit query(statement& s);
  ~query();
  query(const query&) = delete;
  query& operator=(const query&) = delete;

  query& bind(int index, std::span<const std::uint8_t> blob);
  query& bind(int index, std::string_view bytes);  // bound as a blob: compared bytewise
  query& bind_text(int index, std::string_view text);
  query& bind(int index, std::int64_t value);
  query& bind_null(int index);

  // Steps once: true when a row is ready, false when done.
  bool next();
  // Steps to the end (statements that return no rows).
  void run();

  std::int64_t int64(int column) const;
  std::span<const std::uint8_t> blob(int column) const;
  bool is_null(int column) const;

 private:
  void check(int rc) const;
  statement& s_;
};

}  // namespace capchan::services::sqlite
