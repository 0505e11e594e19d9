// The services a server offers: each config entry resolved to its verifier,
// its running service instance and its ArgsS. Immutable once built; a reload
// builds a new table.
#pragma once

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

struct service_entry {
  std::string name;
  std::string handler;
  crypto::password_verifier verifier;
  std::shared_ptr<service> impl;
};

class service_table {
 public:
  static boost::system::result<std::shared_ptr<service_table>, std::vector<std::string>> build(
      const config::server_config& config, const crypto::noise::keypair& key, const service_registry& registry,
      const boost::asio::any_io_executor& executor,
      const std::shared_ptr<blocking_pool>& blocking);

  std::shared_ptr<service_entry> find(const std::string& name) const;
  const std::map<std::string, std::shared_ptr<service_entry>>& entries() const { return entries_; }
  // The services' own metrics (service::service_metrics), as Prometheus text.
  std::string metrics_text() const;

 private:
  std::map<std::string, std::shared_ptr<service_entry>> entries_;
};

}  // namespace capchan::server
