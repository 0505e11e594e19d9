// See sqlite.hpp.
#include "sqlite.hpp"

#include <sqlite3.h>

namespace capchan::services::sqlite {
namespace {

[[noreturn]] void fail(sqlite3* db, int rc) {
  throw error(rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

}  // namespace

connection::connection(const std::filesystem::path& path, mode m) {
  const int flags =
      SQLITE_OPEN_NOMUTEX |
      (m == mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  const std::string name = path.empty() ? std::string(":memory:") : path.string();
  const int rc = sqlite3_open_v2(name.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw error(rc, message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

connection::~connection() {
  sqlite3_close_v2(db_);
}

void connection::exec(const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    const std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw error(rc, text);
  }
}

std::int64_t connection::scalar(const char* sql) {
  statement s(*this, sql);
  query q(s);
  return q.next() ? q.int64(0) : 0;
}

std::string connection::text(const char* sql) {
  statement s(*this, sql);
  query q(s);
  if (!q.next()) return {};
  const auto bytes = q.blob(0);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::int64_t connection::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}

statement::statement(const connection& db, std::string_view sql) : db_(db.get()) {
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db_, rc);
}

statement::~statement() {
  sqlite3_finalize(stmt_);
}

query::query(statement& s) : s_(s) {}

query::~query() {
  sqlite3_reset(s_.stmt_);
  sqlite3_clear_bindings(s_.stmt_);
}

void query::check(int rc) const {
  if (rc != SQLITE_OK) fail(s_.db_, rc);
}

query& query::bind(int index, std::span<const std::uint8_t> blob) {
  // A zero-length blob must still be a blob, not NULL: give SQLite a non-null pointer.
  static constexpr std::uint8_t empty = 0;
  const void* data = blob.empty() ? &empty : blob.data();
  check(sqlite3_bind_blob(s_.stmt_, index, data, static_cast<int>(blob.size()), SQLITE_TRANSIENT));
  return *this;
}

query& query::bind(int index, std::string_view bytes) {
  return bind(index, std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

query& query::bind_text(int index, std::string_view text) {
  check(sqlite3_bind_text(s_.stmt_, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT));
  return *this;
}

query& query::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(s_.stmt_, index, value));
  return *this;
}

query& query::bind_null(int index) {
  check(sqlite3_bind_null(s_.stmt_, index));
  return *this;
}

bool query::next() {
  const int rc = sqlite3_step(s_.stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(s_.db_, rc);
}

void query::run() {
  while (next()) {
  }
}

std::int64_t query::int64(int column) const {
  return sqlite3_column_int64(s_.stmt_, column);
}

std::span<const std::uint8_t> query::blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_.stmt_, column));
  const int size = sqlite3_column_bytes(s_.stmt_, column);
  return {data, static_cast<std::size_t>(size)};
}

bool query::is_null(int column) const {
  return sqlite3_column_type(s_.stmt_, column) == SQLITE_NULL;
}

}  // namespace capchan::services::sqlite
