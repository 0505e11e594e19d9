// The services a server offers: each config entry resolved to its verifier,
// its running service instance and its ArgsS. Immutable once built; a reload
// builds a new table (reload.cpp), reusing the instances of services whose
// handler and args did not change.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "capchan/config/server_config.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/server/service_registry.hpp"

namespace capchan::server {

// Calls `fn` when its owner is destroyed: a reload waits on it to know that
// the last channel of a retired entry is gone.
struct release_notice {
  std::function<void()> fn;
  release_notice() = default;
  release_notice(const release_notice&) = delete;
  release_notice& operator=(const release_notice&) = delete;
  ~release_notice() {
    if (fn) fn();
  }
};

struct service_entry {
  release_notice notice;  // first, so that it fires after the members below are gone
  std::string name;
  std::string handler;
  term args;  // ArgsS, to tell a changed service from an unchanged one
  crypto::password_verifier verifier;
  std::shared_ptr<service> impl;  // may be shared by the entries of two tables
};

// What starting a service needs besides its config entry.
struct service_start {
  const service_registry& registry;
  std::filesystem::path data_dir;
  boost::asio::any_io_executor executor;
  std::shared_ptr<blocking_pool> blocking;
};

class service_table {
 public:
  using entry_map = std::map<std::string, std::shared_ptr<service_entry>>;

  explicit service_table(entry_map entries) : entries_(std::move(entries)) {}

  static boost::system::result<std::shared_ptr<service_table>, std::vector<std::string>> build(
      const config::server_config& config, const crypto::noise::keypair& key, const service_start& start);

  // The verifier of a config entry: parsed, or derived from a plaintext
  // password with a salt that stays the same across restarts.
  static boost::system::result<crypto::password_verifier, std::string> verifier_of(
      const config::service_config& s, const crypto::noise::keypair& key);
  // A running instance of the entry's handler; the error names the handler and why.
  static boost::system::result<std::shared_ptr<service>, std::string> start_service(const config::service_config& s,
                                                                                    const service_start& start);
  // "server.toml:12: service \"name\"": where an entry's errors point.
  static std::string where(const config::server_config& config, const config::service_config& s);

  std::shared_ptr<service_entry> find(const std::string& name) const;
  const entry_map& entries() const { return entries_; }
  // The services' own metrics (service::service_metrics), as Prometheus text.
  std::string metrics_text() const;

 private:
  entry_map entries_;
};

bool same_verifier(const crypto::password_verifier& a, const crypto::password_verifier& b);

}  // namespace capchan::server
