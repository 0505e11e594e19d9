// known_hosts: the server keys this user has seen, by host:port (DESIGN.md §3).
//
// A client that is not given a fingerprint (--key, ?key=) checks the server's
// key here: the first connection to a host:port records its fingerprint
// (trust on first use, with a loud note), later connections must present the
// same key or fail with server_key_mismatch, whose message names the file and
// the line to remove if the change is expected.
//
// File format, one entry per line; blank lines and `#` comments are kept:
//
//   127.0.0.1:1234 SHA256:pFQ0WkG8d3...
//   [::1]:1234 SHA256:...
//
// Writes are atomic (a temporary file in the same folder, then rename), so a
// crash never leaves half a file. Not thread-safe; several processes may race
// to record the same host, in which case the last writer's line wins and the
// next connection of the loser will fail loudly (not silently trust).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "capchan/client/error.hpp"

namespace capchan::client {

class known_hosts {
 public:
  // $XDG_CONFIG_HOME/capchan/known_hosts, else ~/.config/capchan/known_hosts.
  static std::filesystem::path default_path();

  explicit known_hosts(std::filesystem::path file) : file_(std::move(file)) {}
  const std::filesystem::path& file() const { return file_; }

  enum class outcome {
    matched,   // the recorded fingerprint is this one
    recorded,  // first use: appended to the file
    // First use, but the file could not be written (read-only home, ...):
    // the key is trusted for this connection only, as ssh does.
    not_recorded,
  };
  struct verdict {
    outcome what = outcome::matched;
    std::size_t line = 0;  // the entry's 1-based line number in the file
    std::string problem;   // why not_recorded
  };

  // Checks `fingerprint` for `host_port` ("host:port"). A missing file or
  // folder is created on first use (0700 folder, 0600 file). Errors:
  // server_key_mismatch (detail: both fingerprints, the file and line, and
  // how to fix it), known_hosts_error (a file that exists but cannot be
  // read, or a malformed line: better no connection than a silent bypass).
  result<verdict> check(std::string_view host_port, std::string_view fingerprint) const;

  // The fingerprint recorded for `host_port`, or empty.
  result<std::string> find(std::string_view host_port) const;

 private:
  std::filesystem::path file_;
};

}  // namespace capchan::client
