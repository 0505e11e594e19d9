// The server's static X25519 key on disk (DESIGN.md §3: `key_file`, created
// 0600 on first start). The file is text, so a person can tell what it is:
//
//   # capchan server key: X25519 private key, base64. Keep it secret (mode 0600).
//   capchan-server-key-v1 <44 characters of base64>
//
// Losing the file changes the server's fingerprint, and every client that
// pinned it will refuse to connect: back it up with the config.
#pragma once

#include <filesystem>
#include <string>

#include <boost/system/result.hpp>

#include "capchan/core/crypto/noise.hpp"

namespace capchan::crypto {

// Reads a key file; the error names the file and what is wrong with it.
boost::system::result<noise::keypair, std::string> load_key_file(const std::filesystem::path& path);

// Writes a new random key to `path`, which must not exist: created with mode
// 0600 (O_EXCL, so two starting servers cannot both write), fsynced, and its
// folder fsynced, so a crash cannot leave a half-written key.
boost::system::result<noise::keypair, std::string> create_key_file(const std::filesystem::path& path);

// Loads the key, creating it first if the file does not exist; `created`
// tells which happened.
boost::system::result<noise::keypair, std::string> load_or_create_key_file(
    const std::filesystem::path& path, bool& created);

// Whether group or others may read the file (a warning for `config check`).
bool readable_by_others(const std::filesystem::path& path);

}  // namespace capchan::crypto
