// See kvs_file.hpp.
#include "kvs_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "kvs_store.hpp"

namespace capchan::services::kvs {
namespace {

namespace fs = std::filesystem;

constexpr const char* schema_sql = R"sql(
CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES ('revision', 0), ('compacted', 0);
CREATE TABLE kv (
  key BLOB PRIMARY KEY,        -- etf::encode(Key): deterministic, so equal keys are equal bytes
  kind INTEGER NOT NULL,       -- key_kind: atom, string, binary, other
  name BLOB NOT NULL,          -- the text that list and watch prefixes match
  value BLOB NOT NULL,         -- etf::encode(Value)
  owner INTEGER NOT NULL,      -- the channel of an ephemeral key, else 0
  lease INTEGER NOT NULL,      -- the lease the key is attached to, else 0
  revision INTEGER NOT NULL    -- the revision of its last change
) WITHOUT ROWID;
CREATE UNIQUE INDEX kv_by_name ON kv (kind, name);
CREATE INDEX kv_by_owner ON kv (owner) WHERE owner <> 0;
CREATE INDEX kv_by_lease ON kv (lease) WHERE lease <> 0;
CREATE TABLE events (
  revision INTEGER PRIMARY KEY,
  key BLOB NOT NULL,
  value BLOB                   -- NULL: the key was deleted
);
CREATE TABLE leases (id INTEGER PRIMARY KEY AUTOINCREMENT, ttl_ms INTEGER NOT NULL);
)sql";

store_error file_error(const fs::path& file, const std::string& what) {
  return store_error(file.string() + ": " + what);
}

void create_schema(sqlite::connection& db) {
  db.exec("BEGIN IMMEDIATE");
  db.exec(schema_sql);
  db.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {};", application_id,
                      schema_version)
              .c_str());
  db.exec("COMMIT");
}

// Refuses anything but an empty database or one of ours with our schema.
// Returns whether the file is new (needs the schema).
bool check_identity(sqlite::connection& db, const fs::path& file) {
  std::int64_t app = 0, version = 0, objects = 0;
  try {
    app = db.scalar("PRAGMA application_id");
    version = db.scalar("PRAGMA user_version");
    objects = db.scalar("SELECT count(*) FROM sqlite_schema");
  } catch (const sqlite::error& e) {
    throw file_error(file,
                     std::string("cannot be read as a SQLite database (") + e.what() +
                         "): it is corrupt or not a capchan kvs file; move it away to start an "
                         "empty store, or restore it from a backup");
  }
  if (app == 0 && objects == 0) return true;
  if (app != application_id) {
    throw file_error(
        file, fmt::format("is a SQLite database of another program (application_id {:#x}, "
                          "{} schema objects), not a capchan kvs file; refusing to touch it: "
                          "point args.path at a new file",
                          static_cast<std::uint32_t>(app), objects));
  }
  if (version != schema_version) {
    throw file_error(
        file, fmt::format("is a capchan kvs file of schema version {}, and this capchan reads "
                          "version {}; run the capchan that wrote it",
                          version, schema_version));
  }
  return false;
}

void check_integrity(sqlite::connection& db, const fs::path& file) {
  std::string verdict;
  try {
    verdict = db.text("PRAGMA quick_check(1)");
  } catch (const sqlite::error& e) {
    verdict = e.what();
  }
  std::replace(verdict.begin(), verdict.end(), '\n', ' ');  // one line, for logs
  if (verdict != "ok") {
    throw file_error(file,
                     "is corrupt (SQLite quick_check: " + verdict +
                         "); restore it from a backup, or move it away to start an empty store");
  }
}

}  // namespace

file_lock::file_lock(const fs::path& file) {
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw file_error(file, std::string("cannot open: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw file_error(file,
                       "is in use by another kvs store (another capchan-server, or another "
                       "[[service]] with the same path); give each store a file of its own");
    }
    throw file_error(file, std::string("cannot lock: ") + std::strerror(err));
  }
}

file_lock::~file_lock() {
  if (fd_ >= 0) ::close(fd_);
}

void make_parent_directories(const fs::path& file) {
  std::vector<fs::path> missing;
  for (fs::path dir = file.parent_path(); !dir.empty() && !fs::exists(dir);
       dir = dir.parent_path()) {
    missing.push_back(dir);
    if (dir == dir.root_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      throw file_error(file,
                       "cannot create the directory " + it->string() + ": " + std::strerror(errno));
    }
  }
}

std::unique_ptr<sqlite::connection> open_kvs_file(const fs::path& file) {
  std::unique_ptr<sqlite::connection> db;
  try {
    db = std::make_unique<sqlite::connection>(file, sqlite::connection::mode::read_write_create);
  } catch (const sqlite::error& e) {
    throw file_error(file, std::string("cannot open: ") + e.what());
  }
  const bool fresh = check_identity(*db, file);
  try {
    if (!file.empty()) {
      if (db->text("PRAGMA journal_mode = WAL") != "wal")
        throw file_error(file, "cannot switch to WAL mode");
      db->exec("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    }
    if (fresh) {
      create_schema(*db);
    } else {
      check_integrity(*db, file);
    }
  } catch (const sqlite::error& e) {
    throw file_error(file, e.what());
  }
  return db;
}

}  // namespace capchan::services::kvs
