// The SaltedPassword cache (DESIGN.md §3): reconnects skip argon2id.
#include <catch2/catch.hpp>

#include "capchan/client/password_cache.hpp"

using namespace capchan;
using client::password_cache;

TEST_CASE("password_cache derives once per (server key, service, salt)", "[client]") {
  password_cache cache;
  const auto key_a = crypto::noise::keypair::generate().public_key();
  const auto key_b = crypto::noise::keypair::generate().public_key();
  const auto salt = crypto::random_salt();
  const auto params = crypto::argon2id_min;

  auto first = cache.get(key_a, "svc", salt, params, "pw");
  REQUIRE(first.has_value());
  CHECK(cache.derivations() == 1);
  auto second = cache.get(key_a, "svc", salt, params, "pw");
  REQUIRE(second.has_value());
  CHECK(cache.derivations() == 1);
  CHECK(cache.hits() == 1);
  CHECK(std::equal(first->bytes().begin(), first->bytes().end(), second->bytes().begin()));

  // Each part of the key matters.
  REQUIRE(cache.get(key_b, "svc", salt, params, "pw").has_value());
  REQUIRE(cache.get(key_a, "other", salt, params, "pw").has_value());
  REQUIRE(cache.get(key_a, "svc", crypto::random_salt(), params, "pw").has_value());
  REQUIRE(cache.get(key_a, "svc", salt, {params.ops_limit + 1, params.mem_limit}, "pw").has_value());
  CHECK(cache.derivations() == 5);

  // A failed login forgets the entry: the next get derives again.
  cache.forget(key_a, "svc", salt);
  REQUIRE(cache.get(key_a, "svc", salt, params, "pw").has_value());
  CHECK(cache.derivations() == 6);
}

TEST_CASE("password_cache is bounded and refuses parameters over the client cap", "[client]") {
  password_cache cache(2);
  const auto key = crypto::noise::keypair::generate().public_key();
  for (int i = 0; i < 5; ++i) REQUIRE(cache.get(key, "s" + std::to_string(i), crypto::random_salt(), crypto::argon2id_min, "pw").has_value());
  CHECK(cache.size() == 2);

  auto greedy = cache.get(key, "s", crypto::random_salt(),
                          {crypto::client_max_ops_limit + 1, crypto::argon2id_min.mem_limit}, "pw");
  REQUIRE_FALSE(greedy.has_value());
  CHECK(greedy.error() == crypto::errc::argon2id_params_over_client_cap);
}

TEST_CASE("password_cache find answers from the cache only and never derives", "[client]") {
  password_cache cache;
  const auto key = crypto::noise::keypair::generate().public_key();
  const auto salt = crypto::random_salt();
  const auto params = crypto::argon2id_min;

  CHECK_FALSE(cache.find(key, "svc", salt, params).has_value());
  CHECK(cache.derivations() == 0);
  CHECK(cache.hits() == 0);

  auto derived = cache.get(key, "svc", salt, params, "pw");
  REQUIRE(derived.has_value());
  auto found = cache.find(key, "svc", salt, params);
  REQUIRE(found.has_value());
  CHECK(std::equal(found->bytes().begin(), found->bytes().end(), derived->bytes().begin()));
  CHECK(cache.derivations() == 1);
  CHECK(cache.hits() == 1);
  // Other parameters are another entry.
  CHECK_FALSE(cache.find(key, "svc", salt, {params.ops_limit + 1, params.mem_limit}).has_value());
  cache.forget(key, "svc", salt);
  CHECK_FALSE(cache.find(key, "svc", salt, params).has_value());
}
