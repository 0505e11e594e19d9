// Private to capchan_core's crypto: libsodium must be initialised before its
// random generator and its CPU-specific argon2/ChaCha20 code are used.
#pragma once

#include <cstdlib>

#include <sodium.h>

namespace capchan::crypto::detail {

// sodium_init() is thread-safe and idempotent; the function-local static makes
// the call once per process without the apps having to remember it. It fails
// only when the system has no entropy source, where libsodium itself would
// abort on first use: there is no safe way to go on, so stop here.
inline void ensure_sodium_initialized() {
  static const bool initialized = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)initialized;
}

}  // namespace capchan::crypto::detail
