// Safe read-modify-write of a config file (DESIGN.md §6: atomic write):
//
//   config_lock lock(path);            // flock on PATH.lock: one editor at a time
//   auto before = read_config_file(path);
//   ... edit before->text ...
//   replace_config_file(path, *before, new_text);
//
// replace_config_file writes a temporary file in the same folder with the
// old file's mode (and owner, when allowed), fsyncs it, checks that the file
// still holds exactly what was read (someone's editor may have saved it
// meanwhile: then it refuses), renames it over the file and fsyncs the
// folder. A crash leaves the old file or the new one, never a mix. The lock
// file stays beside the config (deleting it would let two editors lock two
// different files).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace capchan::config {

struct config_file_snapshot {
  std::string text;
  mode_t mode = 0600;
  uid_t owner = 0;
  gid_t group = 0;
};

using file_result = boost::system::result<void, std::string>;

// Holds an exclusive flock on `config` + ".lock" (created 0600 if missing)
// from construction to destruction. Throws std::runtime_error naming the
// file when it cannot be locked.
class config_lock {
 public:
  explicit config_lock(const std::filesystem::path& config);
  ~config_lock();
  config_lock(const config_lock&) = delete;
  config_lock& operator=(const config_lock&) = delete;

 private:
  int fd_ = -1;
};

boost::system::result<config_file_snapshot, std::string> read_config_file(const std::filesystem::path& path);

// Refuses when the file no longer holds `read.text`.
file_result replace_config_file(const std::filesystem::path& path, const config_file_snapshot& read,
                                std::string_view text);

// Writes `text` to `path` through a temporary file and a rename (no check
// of what was there), with `mode`.
file_result write_file_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode);

// Creates `path` with `mode`; refuses when it exists (O_EXCL).
file_result create_new_file(const std::filesystem::path& path, std::string_view text, mode_t mode);

}  // namespace capchan::config
