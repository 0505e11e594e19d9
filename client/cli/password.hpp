// Where the CLI gets a service's password (DESIGN.md §6), first match wins:
//   1. --password-file FILE: its first line, the line ending stripped;
//   2. the CAPCHAN_PASSWORD environment variable;
//   3. a prompt on standard error, read from standard input with echo off,
//      when standard input is a terminal. The terminal's settings come back
//      on every way out: the line read, end of file, an error, or a signal
//      (SIGINT, SIGTERM, SIGHUP, SIGQUIT) that then ends the program as it
//      would have.
// With none of them (a script with stdin not a terminal), an error that
// says how to give one. Passwords never appear on a command line: `ps`
// would show them to every user of the machine.
#pragma once

#include <cstddef>
#include <string>

#include "problem.hpp"

namespace capchan::cli {

// A password longer than this is refused: it is surely the wrong file.
inline constexpr std::size_t max_password_bytes = 4096;

struct password_request {
  std::string password_file;  // --password-file, or empty
  std::string prompt;         // e.g. "Password for nameServer at 127.0.0.1:1234: "
  // `capchan config` sets a service's password: a CAPCHAN_PASSWORD exported
  // for talking to some service must not silently become it.
  bool use_environment = true;
};

// The password, or a sentence for a usage error.
checked<std::string> read_password(const password_request& request);

}  // namespace capchan::cli
