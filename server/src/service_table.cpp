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

bool same_verifier(const crypto::password_verifier& a, const crypto::password_verifier& b) {
  return a.salt == b.salt && a.params == b.params && a.stored_key == b.stored_key && a.server_key == b.server_key;
}

std::string service_table::where(const config::server_config& config, const config::service_config& s) {
  return config.path.string() + ":" + std::to_string(s.line) + ": service \"" + s.name + "\"";
}

boost::system::result<crypto::password_verifier, std::string> service_table::verifier_of(
    const config::service_config& s, const crypto::noise::keypair& key) {
  if (const auto* v = std::get_if<config::verifier>(&s.secret)) return from_config(*v);
  const auto& plain = std::get<config::plaintext_password>(s.secret);
  auto derived = crypto::make_verifier(plain.text, crypto::config_password_salt(key.private_key(), s.name),
                                       {s.pwhash.ops_limit, s.pwhash.mem_limit});
  if (!derived) return "cannot derive a verifier: " + derived.error().message();
  return std::move(*derived);
}

boost::system::result<std::shared_ptr<service>, std::string> service_table::start_service(
    const config::service_config& s, const service_start& start) {
  const service_factory* factory = start.registry.find(s.handler);
  if (!factory) {
    std::string list;
    for (const auto& n : start.registry.names()) list += (list.empty() ? "" : ", ") + n;
    return "unknown handler \"" + s.handler + "\" (known: " + list + ")";
  }
  try {
    return std::shared_ptr<service>((*factory)(service_context{s.name, s.args, start.data_dir, start.executor,
                                                               start.blocking}));
  } catch (const std::exception& e) {
    return "handler \"" + s.handler + "\" refused to start: " + e.what();
  }
}

boost::system::result<std::shared_ptr<service_table>, std::vector<std::string>> service_table::build(
    const config::server_config& config, const crypto::noise::keypair& key, const service_start& start) {
  entry_map entries;
  std::vector<std::string> errors;
  for (const auto& s : config.services) {
    auto verifier = verifier_of(s, key);
    if (!verifier) {
      errors.push_back(where(config, s) + ": " + verifier.error());
      continue;
    }
    auto impl = start_service(s, start);
    if (!impl) {
      errors.push_back(where(config, s) + ": " + impl.error());
      continue;
    }
    auto entry = std::make_shared<service_entry>();
    entry->name = s.name;
    entry->handler = s.handler;
    entry->args = s.args;
    entry->verifier = std::move(*verifier);
    entry->impl = std::move(*impl);
    entries[s.name] = std::move(entry);
  }
  if (!errors.empty()) return errors;
  return std::make_shared<service_table>(std::move(entries));
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
