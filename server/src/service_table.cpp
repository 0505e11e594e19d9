// Resolving config entries into running services: the verifier (parsed, or
// derived from a plaintext password with a salt that stays the same across
// restarts, DESIGN.md §3) and the handler's service instance.
#include "service_table.hpp"

#include <algorithm>

namespace capchan::server {
namespace {

crypto::password_verifier from_config(const config::verifier& v) {
  crypto::password_verifier out;
  out.salt = v.salt;
  out.params = {v.ops_limit, v.mem_limit};
  out.stored_key = v.stored_key;
  out.server_key = v.server_key;
  return out;
}

}  // namespace

boost::system::result<std::shared_ptr<service_table>, std::vector<std::string>> service_table::build(
    const config::server_config& config, const crypto::noise::keypair& key, const service_registry& registry,
    const boost::asio::any_io_executor& executor,
      const std::shared_ptr<blocking_pool>& blocking) {
  auto table = std::make_shared<service_table>();
  std::vector<std::string> errors;
  for (const auto& s : config.services) {
    const std::string where = config.path.string() + ":" + std::to_string(s.line) + ": service \"" + s.name + "\"";
    auto entry = std::make_shared<service_entry>();
    entry->name = s.name;
    entry->handler = s.handler;
    if (const auto* v = std::get_if<config::verifier>(&s.secret)) {
      entry->verifier = from_config(*v);
    } else {
      const auto& plain = std::get<config::plaintext_password>(s.secret);
      auto derived = crypto::make_verifier(plain.text, crypto::config_password_salt(key.private_key(), s.name),
                                           {s.pwhash.ops_limit, s.pwhash.mem_limit});
      if (!derived) {
        errors.push_back(where + ": cannot derive a verifier: " + derived.error().message());
        continue;
      }
      entry->verifier = std::move(*derived);
    }
    const service_factory* factory = registry.find(s.handler);
    if (!factory) {
      auto known = registry.names();
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      errors.push_back(where + ": unknown handler \"" + s.handler + "\" (known: " + list + ")");
      continue;
    }
    try {
      entry->impl = (*factory)(service_context{s.name, s.args, config.data_dir, executor, blocking});
    } catch (const std::exception& e) {
      errors.push_back(where + ": handler \"" + s.handler + "\" refused to start: " + e.what());
      continue;
    }
    table->entries_[s.name] = std::move(entry);
  }
  if (!errors.empty()) return errors;
  return table;
}

std::shared_ptr<service_entry> service_table::find(const std::string& name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second;
}

std::string service_table::metrics_text() const {
  std::vector<std::pair<std::string, std::vector<service_metric>>> by_service;
  for (const auto& [name, entry] : entries_) by_service.emplace_back(name, entry->impl->service_metrics());
  return to_prometheus(by_service);
}

}  // namespace capchan::server
