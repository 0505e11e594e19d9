// `capchan config check` (DESIGN.md §6): everything the server's loader
// refuses, plus what it accepts but a person should look at, each as
//   server.toml:12: service[0].password: what is wrong
//
// Warnings: a plaintext password, a bind address other than loopback,
// argon2id parameters below libsodium's INTERACTIVE level (t=2, m=64MiB),
// a handler name the server does not know, a key file that cannot be read
// or that group or others may read. (Duplicate service names, unknown keys
// and bad values are errors of the loader.)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "capchan/config/server_config.hpp"

namespace capchan::config {

struct check_report {
  std::vector<config_problem> errors;    // the server would refuse to start
  std::vector<config_problem> warnings;  // it would start; a person should look
};

// Checks the file at `path`; `known_handlers` are the registry's names.
check_report check_config(const std::filesystem::path& path, const std::vector<std::string>& known_handlers);

}  // namespace capchan::config
