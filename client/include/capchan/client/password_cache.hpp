// The client's cache of SaltedPassword (DESIGN.md §3): argon2id is slow on
// purpose (about 0.1 s at the default cost, up to seconds at the client cap),
// so a client derives it once per (server key, service, salt) and reconnects
// skip it. Share one cache between the connections of a program by passing
// the same shared_ptr in connect_options.
//
// The key is what DESIGN.md names, not the password: an entry answers for
// any password given later. Share a cache only between connections that use
// the same credentials; an entry is forgotten when a login with it fails, so
// a password changed on the server costs one failed attempt, not a stuck
// client.
//
// Entries are secrets (whoever holds SaltedPassword can log in); they stay in
// memory only and are wiped when evicted. Thread-safe. Bounded: past
// max_entries, the oldest entry goes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"

namespace capchan::client {

class password_cache {
 public:
  static constexpr std::size_t default_max_entries = 64;

  explicit password_cache(std::size_t max_entries = default_max_entries)
      : max_entries_(max_entries) {}
  password_cache(const password_cache&) = delete;
  password_cache& operator=(const password_cache&) = delete;

  // The cached SaltedPassword, or argon2id on `password` (with the client
  // caps of crypto::check_client_argon2id_params), remembered on success.
  // Runs argon2id on the calling thread: the channel calls it off its strand.
  crypto::result<crypto::salted_password> get(const crypto::noise::public_key& server_key,
                                              std::string_view service,
                                              const crypto::password_salt& salt,
                                              const crypto::argon2id_params& params,
                                              std::string_view password);

  // The cached SaltedPassword alone (counted as a hit), or nothing: no
  // argon2id, so a caller may try it on its I/O thread before paying for a
  // thread to run get() on.
  std::optional<crypto::salted_password> find(const crypto::noise::public_key& server_key,
                                              std::string_view service,
                                              const crypto::password_salt& salt,
                                              const crypto::argon2id_params& params);

  // Drops the entry (after a failed login with it).
  void forget(const crypto::noise::public_key& server_key, std::string_view service,
              const crypto::password_salt& salt);

  // Counters, for tests and for a client that wants to show them.
  std::uint64_t derivations() const { return derivations_.load(); }  // argon2id runs
  std::uint64_t hits() const { return hits_.load(); }
  std::size_t size() const;

 private:
  struct entry {
    crypto::noise::public_key server_key;
    std::string service;
    crypto::password_salt salt;
    crypto::argon2id_params params;
    crypto::salted_password salted;
  };

  mutable std::mutex mutex_;
  std::list<entry> entries_;  // most recently used first
  std::size_t max_entries_;
  std::atomic<std::uint64_t> derivations_{0};
  std::atomic<std::uint64_t> hits_{0};
};

}  // namespace capchan::client
