// Opening a kvs data file (docs/kvs.md "The file"): the directory, an
// exclusive lock, and the checks that refuse a file the store must not use
// (not SQLite, corrupt, another program's database, another schema version),
// so that the server never starts with a half-usable store. A new or empty
// file gets the schema.
#pragma once

#include <filesystem>
#include <memory>

#include "sqlite.hpp"

namespace capchan::services::kvs {

// The schema this code reads and writes, kept in PRAGMA user_version; the
// file is marked as ours by PRAGMA application_id ("ccKV").
inline constexpr std::int64_t schema_version = 1;
inline constexpr std::int64_t application_id = 0x63634B56;

// An exclusive flock on the data file, so that two stores (two servers, or
// two [[service]] entries naming the same path) never write one file. It must
// outlive every SQLite connection to the file: closing any descriptor of a
// file drops the process's POSIX locks on it, SQLite's included.
class file_lock {
 public:
  file_lock() = default;
  explicit file_lock(const std::filesystem::path& file);  // throws store_error
  ~file_lock();
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

 private:
  int fd_ = -1;
};

// Opens `file` read-write (an empty path: in memory) in WAL mode with
// synchronous=FULL, checked and with the schema in place. Throws store_error
// with a message that starts with the file name and says what to do.
std::unique_ptr<sqlite::connection> open_kvs_file(const std::filesystem::path& file);

// Creates the missing directories above `file`, each with mode 0700 (the
// store holds what clients wrote; it is nobody else's business).
void make_parent_directories(const std::filesystem::path& file);

}  // namespace capchan::services::kvs
