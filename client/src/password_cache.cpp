// SaltedPassword cache (DESIGN.md §3: "Clients cache SaltedPassword per
// (server key, service, salt) in memory, so reconnects skip argon2id").
#include "capchan/client/password_cache.hpp"

namespace capchan::client {
namespace {

template <class Entry>
bool same(const Entry& e, const crypto::noise::public_key& server_key, std::string_view service,
          const crypto::password_salt& salt) {
  return e.server_key == server_key && e.service == service && e.salt == salt;
}

}  // namespace

std::optional<crypto::salted_password> password_cache::find(const crypto::noise::public_key& server_key,
                                                            std::string_view service,
                                                            const crypto::password_salt& salt,
                                                            const crypto::argon2id_params& params) {
  std::lock_guard lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    // The parameters are part of the key too: the same salt with another
    // cost is another SaltedPassword.
    if (same(*it, server_key, service, salt) && it->params == params) {
      entries_.splice(entries_.begin(), entries_, it);
      ++hits_;
      return entries_.front().salted;
    }
  }
  return std::nullopt;
}

crypto::result<crypto::salted_password> password_cache::get(
    const crypto::noise::public_key& server_key, std::string_view service,
    const crypto::password_salt& salt, const crypto::argon2id_params& params,
    std::string_view password) {
  if (auto cached = find(server_key, service, salt, params)) return *cached;
  // argon2id outside the lock: it takes long, and other channels may hit.
  ++derivations_;
  auto salted = crypto::client_salted_password(password, salt, params);
  if (!salted || max_entries_ == 0) return salted;
  std::lock_guard lock(mutex_);
  entries_.remove_if([&](const entry& e) { return same(e, server_key, service, salt); });
  entries_.push_front(entry{server_key, std::string(service), salt, params, *salted});
  while (entries_.size() > max_entries_) entries_.pop_back();
  return salted;
}

void password_cache::forget(const crypto::noise::public_key& server_key, std::string_view service,
                            const crypto::password_salt& salt) {
  std::lock_guard lock(mutex_);
  entries_.remove_if([&](const entry& e) { return same(e, server_key, service, salt); });
}

std::size_t password_cache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace capchan::client
