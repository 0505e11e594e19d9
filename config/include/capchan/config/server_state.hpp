// The files capchan-server keeps in its data_dir so that `capchan config
// reload` can find it and learn how a reload went (docs/config.md):
//
//   data_dir/capchan-server.pid     the server's process id, one line
//   data_dir/capchan-server.reload  the last reload: "generation N", then
//                                   "ok" or "failed", then one line per note
//
// The server writes the status file atomically at start (generation 0) and
// after every reload, SIGHUP or not, so a reader never sees half a status.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capchan/config/server_config.hpp"

namespace capchan::config {

std::filesystem::path pid_file_path(const server_config& config);
std::filesystem::path reload_status_path(const server_config& config);

struct reload_status {
  std::uint64_t generation = 0;  // 0 at start, then one more per reload
  bool ok = true;
  std::vector<std::string> notes;  // what changed, or why it failed (file:line: ...)
};

std::string format_reload_status(const reload_status& status);
std::optional<reload_status> parse_reload_status(std::string_view text);

}  // namespace capchan::config
