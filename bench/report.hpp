// What a capchan-bench run found: figures per scenario, goals as ratios
// (met or short), and their two renderings, the table on stdout and the
// JSON file (bench/results/DATE.json).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace capchan::bench {

// One measured number: "capchan rpc p50" = 48.1 "us".
struct figure {
  std::string name;
  double value = 0;
  std::string unit;
  std::string note;  // e.g. "range 45.0-52.3 over 4 rounds"
};

// A goal is a ratio measured in this run, compared with a bound.
struct goal {
  std::string text;  // "p50 capchan / raw TCP"
  double ratio = 0;
  double bound = 0;
  bool at_most = false;  // ratio <= bound (else ratio >= bound)
  std::string short_because;  // filled when not met and the harness knows why
  bool met() const { return at_most ? ratio <= bound : ratio >= bound; }
};

struct scenario_report {
  std::string id;     // "a"
  std::string title;  // "rpc latency, 1 channel, 64-byte payload"
  std::vector<figure> figures;
  std::vector<goal> goals;
  std::string skipped;  // why it did not run, if it did not
  void add(std::string name, double value, std::string unit, std::string note = {}) {
    figures.push_back({std::move(name), value, std::move(unit), std::move(note)});
  }
};

struct run_report {
  std::string date;  // YYYY-MM-DD
  std::string started_at;
  bool quick = false;
  unsigned cores = 0;
  double seconds = 0;
  std::vector<scenario_report> scenarios;
  std::vector<std::string> files;  // the PNG plot and the like
};

void print_table(const run_report& r);
// Writes the JSON; throws when the file cannot be written.
void write_json(const run_report& r, const std::filesystem::path& file);

// Smallest and largest of a series, "lo-hi", for the table's range column.
std::string range_text(const std::vector<double>& values, int decimals);

}  // namespace capchan::bench
