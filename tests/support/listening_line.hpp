// What a started capchan-server says first, on stdout:
//   capchan-server listening on HOST:PORT key SHA256:...
// Every test and benchmark that starts the real server reads it to learn the
// port it picked (`port = 0`) and the key to pin.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "process.hpp"

namespace capchan::test {

struct listening_line {
  std::string host;
  std::uint16_t port = 0;
  std::string fingerprint;  // SHA256:...
};

// The line's parts; throws std::runtime_error quoting the line when it is not
// a listening line.
listening_line parse_listening_line(const std::string& line);

// Reads the first line of a started capchan-server and parses it; throws
// std::runtime_error naming `what` (e.g. where its log is) if none comes
// within `limit` or it is not a listening line.
listening_line read_listening_line(child_process& server, const std::string& what,
                                   std::chrono::milliseconds limit = std::chrono::seconds(30));

}  // namespace capchan::test
