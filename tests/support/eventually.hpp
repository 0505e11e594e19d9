// Polling with a deadline, for the events a test cannot await directly (a
// counter in another process or thread, a file another process writes).
#pragma once

#include <chrono>
#include <thread>

namespace capchan::test {

// Polls `done` (a cheap check) until it holds or `limit` passes; the final
// value.
template <class Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace capchan::test
