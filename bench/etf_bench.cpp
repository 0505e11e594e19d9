// ETF encode and decode speed, ours against erl's own, in the same run
// (DESIGN.md §9: absolute numbers drift, so a benchmark runs its baseline
// alongside and reports the ratio). The terms are the book's messages
// ({store,joe,"writing a book"}, {lookup,joe}, {ok,"writing a book"}) and a
// 64 KiB binary. First one erl (bench/etf_baseline.erl) times its own
// term_to_binary(T, [{minor_version, 2}]) and binary_to_term(B) loops on each
// term, then Google Benchmark times ours, and a table at the end gives, per
// term, ns/op for both, the ratio erl/ours, and whether the goal (ours at
// least 2x faster than erl for encode and for decode) is met. The goal is
// judged in CPU time of each whole process (Google Benchmark's default; erl's
// statistics(runtime)), because this machine is shared and wall-clock time
// also counts whatever else runs; the wall-clock ratio is shown beside it.
// Without erl the baseline is skipped and said so.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capchan/core/etf.hpp"
#include "capchan/core/term.hpp"
#include "erl_process.hpp"

#ifndef CAPCHAN_ERL
#define CAPCHAN_ERL ""
#endif
#ifndef CAPCHAN_BENCH_DIR
#define CAPCHAN_BENCH_DIR "bench"
#endif

namespace {

using namespace capchan;

// The goal (issue): ours at least this many times faster than erl, per term.
constexpr double goal_ratio = 2.0;

struct bench_term {
  std::string name;
  std::string source;  // Erlang source text, for erl
  term value;          // the same term, built directly (no parser in the way)
};

std::vector<bench_term> bench_terms() {
  constexpr std::size_t big_size = 64 * 1024;
  std::vector<std::uint8_t> bytes(big_size);
  std::string source = "<<";
  for (std::size_t i = 0; i < big_size; ++i) {
    bytes[i] = static_cast<std::uint8_t>(i * 131 + 7);
    source += (i == 0 ? "" : ",") + std::to_string(bytes[i]);
  }
  source += ">>";
  std::vector<bench_term> terms;
  terms.push_back({"store", R"({store,joe,"writing a book"})",
                   tuple(atom("store"), atom("joe"), charlist("writing a book"))});
  terms.push_back({"lookup", "{lookup,joe}", tuple(atom("lookup"), atom("joe"))});
  terms.push_back(
      {"ok_reply", R"({ok,"writing a book"})", tuple(atom("ok"), charlist("writing a book"))});
  terms.push_back({"binary_64k", std::move(source), binary(std::move(bytes))});
  return terms;
}

// Nanoseconds per op, in CPU time of the whole process and in wall-clock time.
struct per_op {
  double cpu_ns = 0;
  double wall_ns = 0;
};

struct erl_timing {
  per_op encode;
  per_op decode;
  bool same_bytes = false;  // erl's term_to_binary equals our encoding
};

// erl's path as CMake found it, or empty when it is not usable.
std::string usable_erl() {
  std::string path = CAPCHAN_ERL;
  if (path.empty() || path.ends_with("-NOTFOUND") || ::access(path.c_str(), X_OK) != 0) return {};
  return path;
}

// Times erl's loops for every term; empty when erl is absent or fails (said on stderr).
std::map<std::string, erl_timing> measure_erl(const std::vector<bench_term>& terms,
                                              std::string& erl_version) {
  std::map<std::string, erl_timing> timings;
  const std::string erl_program = usable_erl();
  if (erl_program.empty()) {
    std::fprintf(stderr, "erl not found: the erl baseline is skipped\n");
    return timings;
  }
  try {
    capchan::test::erl_process erl(erl_program,
                                   std::string(CAPCHAN_BENCH_DIR) + "/etf_baseline.erl",
                                   "capchan-etf-baseline ready");
    erl_version = erl.banner().substr(std::string_view("capchan-etf-baseline ready ").size());
    for (const auto& t : terms) {
      std::fprintf(stderr, "erl baseline: timing %s...\n", t.name.c_str());
      const std::string answer = erl.ask("measure " + capchan::test::to_hex(t.source));
      const auto fields = capchan::test::split_fields(answer);
      if (fields.size() != 6 || fields[0] != "result") {
        throw std::runtime_error("unexpected answer for " + t.name + ": " + answer.substr(0, 200));
      }
      auto number = [&](std::size_t i) { return std::stod(std::string(fields[i])); };
      erl_timing timing;
      timing.encode = {number(1), number(2)};
      timing.decode = {number(3), number(4)};
      const auto ours = etf::encode(t.value);
      timing.same_bytes = capchan::test::from_hex(fields[5]) ==
                          std::string_view(reinterpret_cast<const char*>(ours.data()), ours.size());
      if (!timing.same_bytes) {
        std::fprintf(stderr, "warning: erl's bytes for %s differ from ours\n", t.name.c_str());
      }
      timings[t.name] = timing;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "erl baseline failed, skipped: %s\n", e.what());
    timings.clear();
  }
  return timings;
}

void register_benchmarks(const std::vector<bench_term>& terms) {
  for (const auto& t : terms) {
    benchmark::RegisterBenchmark(("encode/" + t.name).c_str(), [&t](benchmark::State& state) {
      for (auto _ : state) {
        auto bytes = etf::encode(t.value);
        benchmark::DoNotOptimize(bytes.data());
        benchmark::ClobberMemory();
      }
    });
    const auto encoded = etf::encode(t.value);
    benchmark::RegisterBenchmark(("decode/" + t.name).c_str(), [encoded](benchmark::State& state) {
      for (auto _ : state) {
        auto decoded = etf::decode(encoded);
        if (!decoded) {
          state.SkipWithError("decode failed");
          break;
        }
        benchmark::DoNotOptimize(decoded);
      }
    });
  }
}

// The console output, with erl's CPU time per op and the ratios erl/ours (CPU
// and wall clock) added to each run as counters; it also keeps our times per
// op for the table at the end.
class baseline_reporter : public benchmark::ConsoleReporter {
 public:
  baseline_reporter(const std::map<std::string, erl_timing>& erl, OutputOptions options)
      : benchmark::ConsoleReporter(options), erl_(erl) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<Run> with_baseline = runs;
    for (auto& run : with_baseline) {
      if (run.error_occurred) continue;
      const bool per_op_time = run.run_type == Run::RT_Iteration || run.aggregate_name == "mean" ||
                               run.aggregate_name == "median";
      if (!per_op_time) continue;
      const double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
      const per_op ours{run.GetAdjustedCPUTime() * to_ns, run.GetAdjustedRealTime() * to_ns};
      if (run.run_type == Run::RT_Iteration) ours_[run.run_name.function_name].push_back(ours);
      if (const auto erl = erl_for(run.run_name.function_name)) {
        run.counters["erl_cpu_ns"] = benchmark::Counter(erl->cpu_ns);
        run.counters["erl/ours"] = benchmark::Counter(erl->cpu_ns / ours.cpu_ns);
        run.counters["erl/ours_wall"] = benchmark::Counter(erl->wall_ns / ours.wall_ns);
      }
    }
    benchmark::ConsoleReporter::ReportRuns(with_baseline);
  }

  // Our time per op for "encode/<term>" or "decode/<term>" (with repetitions,
  // the run with the median CPU time).
  std::optional<per_op> ours(const std::string& name) const {
    const auto it = ours_.find(name);
    if (it == ours_.end() || it->second.empty()) return std::nullopt;
    auto times = it->second;
    const auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end(),
                     [](const per_op& a, const per_op& b) { return a.cpu_ns < b.cpu_ns; });
    return *middle;
  }

  std::optional<per_op> erl_for(const std::string& name) const {
    const auto slash = name.find('/');
    if (slash == std::string::npos) return std::nullopt;
    const auto it = erl_.find(name.substr(slash + 1));
    if (it == erl_.end()) return std::nullopt;
    return name.starts_with("encode/") ? it->second.encode : it->second.decode;
  }

 private:
  const std::map<std::string, erl_timing>& erl_;
  std::map<std::string, std::vector<per_op>> ours_;
};

std::string cell(std::optional<double> v, const char* format) {
  if (!v) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, *v);
  return text;
}

// Per term: CPU ns/op ours and erl's, the ratio erl/ours in CPU time (the goal
// is judged on it: the machine is shared, and wall-clock time also counts
// whatever else runs), and the same ratio in wall-clock time for reference.
void print_table(const std::vector<bench_term>& terms, const baseline_reporter& reporter,
                 const std::map<std::string, erl_timing>& erl, const std::string& erl_version) {
  std::printf("\nETF codec, ours vs erl %s: CPU ns per op; goal: erl/ours >= %.1f in CPU time\n",
              erl.empty() ? "(absent: baseline skipped)" : erl_version.c_str(), goal_ratio);
  std::printf("%-10s %6s | %9s %9s %8s %6s | %9s %9s %8s %6s | %s\n", "term", "bytes", "enc ours",
              "enc erl", "erl/ours", "(wall)", "dec ours", "dec erl", "erl/ours", "(wall)", "goal");
  for (const auto& t : terms) {
    std::optional<double> ratios[2];
    std::string cells[8];
    int i = 0;
    for (const char* op : {"encode/", "decode/"}) {
      const std::string name = op + t.name;
      const auto ours = reporter.ours(name);
      const auto theirs = reporter.erl_for(name);
      std::optional<double> ratio;
      std::optional<double> wall_ratio;
      if (ours && theirs) {
        ratio = theirs->cpu_ns / ours->cpu_ns;
        wall_ratio = theirs->wall_ns / ours->wall_ns;
      }
      cells[i * 4] = cell(ours ? std::optional(ours->cpu_ns) : std::nullopt, "%.1f");
      cells[i * 4 + 1] = cell(theirs ? std::optional(theirs->cpu_ns) : std::nullopt, "%.1f");
      cells[i * 4 + 2] = cell(ratio, "%.2fx");
      cells[i * 4 + 3] = cell(wall_ratio, "%.2fx");
      ratios[i++] = ratio;
    }
    std::string verdict;
    if (!ratios[0] || !ratios[1]) {
      verdict = "n/a";
    } else if (*ratios[0] >= goal_ratio && *ratios[1] >= goal_ratio) {
      verdict = "met";
    } else {
      verdict = "short:";
      if (*ratios[0] < goal_ratio) verdict += " encode";
      if (*ratios[1] < goal_ratio) verdict += " decode";
    }
    const auto e = erl.find(t.name);
    if (e != erl.end() && !e->second.same_bytes) verdict += " (erl's bytes differ from ours!)";
    std::printf("%-10s %6zu | %9s %9s %8s %6s | %9s %9s %8s %6s | %s\n", t.name.c_str(),
                etf::encode(t.value).size(), cells[0].c_str(), cells[1].c_str(), cells[2].c_str(),
                cells[3].c_str(), cells[4].c_str(), cells[5].c_str(), cells[6].c_str(),
                cells[7].c_str(), verdict.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  const auto terms = bench_terms();
  std::string erl_version;
  // erl runs first and alone, so that the two sides never compete for a core.
  const auto erl = measure_erl(terms, erl_version);

  register_benchmarks(terms);
  baseline_reporter reporter(erl, ::isatty(STDOUT_FILENO)
                                      ? benchmark::ConsoleReporter::OO_ColorTabular
                                      : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_table(terms, reporter, erl, erl_version);
  return 0;
}
