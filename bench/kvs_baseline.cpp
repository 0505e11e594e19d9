// One transaction per put, on the kvs file format (kvs_baseline.hpp).
#include "kvs_baseline.hpp"

#include <string>

#include "capchan/core/etf.hpp"
#include "capchan/core/term.hpp"
#include "kvs_file.hpp"
#include "sqlite.hpp"

namespace capchan::bench {

double one_transaction_per_put(const std::filesystem::path& file, std::chrono::milliseconds length) {
  namespace sqlite = services::sqlite;
  auto db = services::kvs::open_kvs_file(file);
  sqlite::statement begin(*db, "BEGIN IMMEDIATE"), commit(*db, "COMMIT");
  sqlite::statement upsert(*db,
                           "INSERT OR REPLACE INTO kv (key, kind, name, value, owner, lease, revision) "
                           "VALUES (?1, 2, ?2, ?3, 0, 0, ?4)");
  sqlite::statement event(*db, "INSERT INTO events (revision, key, value) VALUES (?1, ?2, ?3)");
  sqlite::statement meta(*db, "UPDATE meta SET value = ?1 WHERE name = 'revision'");
  std::int64_t n = 0;
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto end = start + length;
  while (clock::now() < end) {
    ++n;
    const auto key = etf::encode(binary::from("c0/" + std::to_string(n)));
    const auto value = etf::encode(tuple(atom("node"), n, binary::from("10.0.0.1:4369")));
    sqlite::query(begin).run();
    sqlite::query(upsert).bind(1, key).bind(2, std::string_view("c0/")).bind(3, value).bind(4, n).run();
    sqlite::query(event).bind(1, n).bind(2, key).bind(3, value).run();
    sqlite::query(meta).bind(1, n).run();
    sqlite::query(commit).run();
  }
  return static_cast<double>(n) / std::chrono::duration<double>(clock::now() - start).count();
}

}  // namespace capchan::bench
