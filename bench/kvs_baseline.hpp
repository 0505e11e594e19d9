// Scenario (g)'s baseline for durable puts (issue 5's goal): a loop that
// commits one put per transaction, on a file with the kvs store's own schema
// and pragmas (WAL, synchronous=FULL), writing the rows and the event a put
// writes. That is what the store's group commit is measured against.
#pragma once

#include <chrono>
#include <filesystem>

namespace capchan::bench {

// Puts per second, for `length`, on a new file `file`.
double one_transaction_per_put(const std::filesystem::path& file, std::chrono::milliseconds length);

}  // namespace capchan::bench
