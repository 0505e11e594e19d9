// ETF encode and decode speed, ours against erl's own, in the same run
// (DESIGN.md §9: absolute numbers drift, so a benchmark runs its baseline
// alongside and reports the ratio). The terms are the book's messages
// ({store,joe,"writing a book"}, {lookup,joe}, {ok,"writing a book"}) and a
// 64 KiB binary; the goal is ours at least 2x faster than erl's
// term_to_binary(T, [{minor_version, 2}]) and binary_to_term(B) on each, for
// encode and for decode.
//
// Fairness, since this machine is shared and its speed drifts by as much as
// 2x within a minute:
// - one erl (bench/etf_baseline.erl) calibrates each loop to last ~200 ms and
//   that iteration count is used by both sides;
// - the two sides run op by op, back to back (erl's run, then ours, then the
//   next op), in several rounds, so that each ratio compares two runs made
//   moments apart; the table gives the median ratio over rounds and its range;
// - time is CPU time of each whole process (Google Benchmark's default; erl's
//   statistics(runtime), garbage collection included), since wall-clock time
//   also counts whatever else runs; the wall-clock ratio is shown beside it;
// - each side's empty loop is measured too and subtracted;
// - both sides allocate their result and free it (erl by garbage collection);
// - both decode from a buffer they share, as a server decodes a message it
//   received: erl's binary_to_term(Bin) of a binary it holds, our
//   etf::decode_shared of a buffer held by a shared_ptr (binaries of 64 bytes
//   or more then point into it, as in the server; erl copies them);
// - each op comes with our floor, the least work any codec with our result
//   types must do, measured in the same rounds: for encode, one allocation
//   of the encoded size and a copy of the bytes into it (what encode returns);
//   for decode, copying the decoded term (its copy constructor builds the
//   same objects as a decoder, reading nothing) and destroying it. erl's
//   time over our floor bounds the ratio that such a codec can reach.
// Flags: --rounds=N (default 5); --no_erl times ours only. Progress goes to
// stderr, the table to stdout.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
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
constexpr int default_rounds = 5;

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

// What is timed: an op on a term, on both sides; our floor of an op (ours
// only); the empty loop (on no term in particular).
struct item {
  std::string op;  // encode, decode, floor_encode, floor_decode or empty
  const bench_term* subject;
  std::string name() const { return op == "empty" ? op : op + "/" + subject->name; }
  bool erl_side() const { return !op.starts_with("floor_"); }
  // The op whose iteration count a floor uses.
  std::string calibrated_name() const {
    return op.starts_with("floor_") ? op.substr(6) + "/" + subject->name : name();
  }
};

std::vector<item> bench_items(const std::vector<bench_term>& terms) {
  std::vector<item> items;
  for (const auto& t : terms) {
    for (const char* op : {"encode", "floor_encode", "decode", "floor_decode"})
      items.push_back({op, &t});
  }
  items.push_back({"empty", &terms.front()});
  return items;
}

// Nanoseconds per iteration, in CPU time of the whole process and in wall-clock time.
struct per_op {
  double cpu_ns = 0;
  double wall_ns = 0;
};

// erl's path as CMake found it, or empty when it is not usable.
std::string usable_erl() {
  std::string path = CAPCHAN_ERL;
  if (path.empty() || path.ends_with("-NOTFOUND") || ::access(path.c_str(), X_OK) != 0) return {};
  return path;
}

// The erl side: bench/etf_baseline.erl's protocol. Throws std::runtime_error
// on any unexpected answer.
class erl_baseline {
 public:
  explicit erl_baseline(const std::string& erl_program)
      : erl_(erl_program, std::string(CAPCHAN_BENCH_DIR) + "/etf_baseline.erl",
             "capchan-etf-baseline ready") {}

  std::string version() const {
    return erl_.banner().substr(std::string_view("capchan-etf-baseline ready ").size());
  }

  // Loads a term; returns erl's encoding of it.
  std::string load(const bench_term& t) {
    return test::from_hex(ask("load " + t.name + " " + test::to_hex(t.source), "loaded", 2)[1]);
  }

  std::int64_t calibrate(const item& i) {
    return std::stoll(std::string(ask("calibrate " + i.subject->name + " " + i.op, "calibrated", 2)[1]));
  }

  per_op run(const item& i, std::int64_t iterations) {
    const auto fields =
        ask("run " + i.subject->name + " " + i.op + " " + std::to_string(iterations), "ran", 3);
    return {std::stod(std::string(fields[1])), std::stod(std::string(fields[2]))};
  }

 private:
  std::vector<std::string_view> ask(const std::string& request, std::string_view tag,
                                    std::size_t field_count) {
    answer_ = erl_.ask(request);
    auto fields = test::split_fields(answer_);
    if (fields.size() != field_count || fields[0] != tag) {
      std::string what = answer_.substr(0, 200);
      if (fields.size() == 2 && fields[0] == "error") what = test::from_hex(fields[1]);
      throw std::runtime_error("erl's answer to '" + request.substr(0, 40) + "': " + what);
    }
    return fields;
  }

  test::erl_process erl_;
  std::string answer_;  // the fields returned by ask() point into it
};

// Our side of an item, as a Google Benchmark function.
void register_ours(const item& i, std::optional<std::int64_t> iterations) {
  const term& value = i.subject->value;
  benchmark::internal::Benchmark* b = nullptr;
  if (i.op == "encode") {
    b = benchmark::RegisterBenchmark(i.name().c_str(), [&value](benchmark::State& state) {
      for (auto _ : state) {
        auto bytes = etf::encode(value);
        benchmark::DoNotOptimize(bytes.data());
        benchmark::ClobberMemory();
      }
    });
  } else if (i.op == "decode") {
    b = benchmark::RegisterBenchmark(
        i.name().c_str(),
        [encoded = std::make_shared<const std::vector<std::uint8_t>>(etf::encode(value))](benchmark::State& state) {
          for (auto _ : state) {
            auto decoded = etf::decode_shared(*encoded, encoded);
            if (!decoded) {
              state.SkipWithError("decode failed");
              break;
            }
            benchmark::DoNotOptimize(decoded);
          }
        });
  } else if (i.op == "floor_encode") {
    b = benchmark::RegisterBenchmark(
        i.name().c_str(), [encoded = etf::encode(value)](benchmark::State& state) {
          for (auto _ : state) {
            std::vector<std::uint8_t> copy(encoded.begin(), encoded.end());
            benchmark::DoNotOptimize(copy.data());
            benchmark::ClobberMemory();
          }
        });
  } else if (i.op == "floor_decode") {
    b = benchmark::RegisterBenchmark(i.name().c_str(), [&value](benchmark::State& state) {
      for (auto _ : state) {
        term copy = value;
        benchmark::DoNotOptimize(copy);
      }
    });
  } else {
    b = benchmark::RegisterBenchmark(i.name().c_str(), [](benchmark::State& state) {
      for (auto _ : state) benchmark::ClobberMemory();
    });
  }
  if (iterations) b->Iterations(*iterations);
}

// Keeps each run's time per iteration instead of printing it, and says on
// stderr what ran.
class run_collector : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& context) override {
    if (!context_shown_) {
      benchmark::ConsoleReporter console;
      console.SetOutputStream(&std::cerr);
      console.SetErrorStream(&std::cerr);
      console.ReportContext(context);
      context_shown_ = true;
    }
    return true;
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      if (run.error_occurred) throw std::runtime_error(run.benchmark_name() + ": " + run.error_message);
      const double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
      last_ = per_op{run.GetAdjustedCPUTime() * to_ns, run.GetAdjustedRealTime() * to_ns};
    }
  }

  per_op last() const { return last_; }

 private:
  bool context_shown_ = false;
  per_op last_;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct timings {
  std::vector<per_op> ours;
  std::vector<per_op> erl;
  std::int64_t iterations = 0;  // per run, both sides; 0: Google Benchmark's choice
};

std::vector<double> cpu_of(const std::vector<per_op>& runs, double overhead) {
  std::vector<double> out;
  for (const auto& r : runs) out.push_back(r.cpu_ns - overhead);
  return out;
}

std::string format(const char* spec, double v) {
  char text[48];
  std::snprintf(text, sizeof text, spec, v);
  return text;
}

std::string iterations_text(std::int64_t n) {
  if (n == 0) return "auto";
  if (n >= 10'000'000) return format("%.0fM", static_cast<double>(n) / 1e6);
  if (n >= 10'000) return format("%.0fk", static_cast<double>(n) / 1e3);
  return std::to_string(n);
}

// The median over rounds of a/b, each round's a and b measured moments apart,
// and the range of those ratios.
struct ratio_stats {
  double median = 0;
  double low = 0;
  double high = 0;
};

ratio_stats ratios(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r;
  for (std::size_t k = 0; k < std::min(a.size(), b.size()); ++k) r.push_back(a[k] / b[k]);
  return {median(r), *std::min_element(r.begin(), r.end()), *std::max_element(r.begin(), r.end())};
}

std::vector<double> wall_of(const std::vector<per_op>& runs) {
  std::vector<double> out;
  for (const auto& r : runs) out.push_back(r.wall_ns);
  return out;
}

void print_table(const std::vector<bench_term>& terms, std::map<std::string, timings>& results,
                 bool with_erl, const std::string& erl_version, int rounds) {
  auto& empty = results["empty"];
  const double ours_loop = empty.ours.empty() ? 0 : median(cpu_of(empty.ours, 0));
  const double erl_loop = with_erl && !empty.erl.empty() ? median(cpu_of(empty.erl, 0)) : 0;
  std::printf("\nETF codec, ours vs erl %s\n", with_erl ? erl_version.c_str() : "(absent: skipped)");
  std::printf(
      "%d rounds; in each, every op runs on both sides back to back, with the same iteration "
      "count.\nCPU ns per op, median over rounds, loop overhead subtracted (ours %.2f ns, erl "
      "%.2f ns).\nerl/ours: median of the rounds' ratios (their range); goal: >= %.1f in CPU "
      "time.\nfloor: the least work a codec with our result types must do (see the top of "
      "bench/etf_bench.cpp);\nerl/floor: the highest ratio such a codec could show.\n\n",
      rounds, ours_loop, erl_loop, goal_ratio);
  std::printf("%-10s %-6s %5s %6s | %7s %7s | %8s %11s %6s | %7s %9s\n", "term", "op", "bytes",
              "iters", "ours ns", "erl ns", "erl/ours", "(range)", "(wall)", "floor", "erl/floor");
  std::map<std::string, std::string> verdicts;  // term -> "" (met) or the ops short of the goal
  for (const auto& t : terms) {
    for (const std::string op : {"encode", "decode"}) {
      const auto& r = results[op + "/" + t.name];
      const auto& floor_runs = results["floor_" + op + "/" + t.name].ours;
      if (r.ours.empty() || floor_runs.empty()) continue;  // left out by --benchmark_filter
      const auto ours = cpu_of(r.ours, ours_loop);
      const auto floor = cpu_of(floor_runs, ours_loop);
      std::string erl_cell = "-", ratio_cell = "-", range_cell, wall_cell = "-", bound_cell = "-";
      if (with_erl) {
        const auto erl = cpu_of(r.erl, erl_loop);
        const auto ratio = ratios(erl, ours);
        erl_cell = format("%.1f", median(erl));
        ratio_cell = format("%.2fx", ratio.median);
        range_cell = "(" + format("%.2f", ratio.low) + "-" + format("%.2f", ratio.high) + ")";
        wall_cell = format("%.2fx", ratios(wall_of(r.erl), wall_of(r.ours)).median);
        bound_cell = format("%.2fx", ratios(erl, floor).median);
        verdicts[t.name] += ratio.median < goal_ratio ? " " + op : "";
      }
      std::printf("%-10s %-6s %5zu %6s | %7.1f %7s | %8s %11s %6s | %7.1f %9s\n", t.name.c_str(),
                  op.c_str(), etf::encode(t.value).size(), iterations_text(r.iterations).c_str(),
                  median(ours), erl_cell.c_str(), ratio_cell.c_str(), range_cell.c_str(),
                  wall_cell.c_str(), median(floor), bound_cell.c_str());
    }
  }
  if (!with_erl) return;
  std::printf("\ngoal (erl/ours >= %.1f for encode and for decode):\n", goal_ratio);
  for (const auto& [name, short_ops] : verdicts) {
    std::printf("  %-10s %s\n", name.c_str(), short_ops.empty() ? "met" : ("short:" + short_ops).c_str());
  }
}

// Removes `--name` or `--name=value` from argv; returns the value ("" for a bare flag).
std::optional<std::string> take_flag(int& argc, char** argv, std::string_view name) {
  for (int k = 1; k < argc; ++k) {
    const std::string_view arg = argv[k];
    if (arg == name || (arg.starts_with(name) && arg.substr(name.size()).starts_with("="))) {
      std::string value(arg.substr(std::min(arg.size(), name.size() + 1)));
      std::copy(argv + k + 1, argv + argc, argv + k);
      --argc;
      return value;
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const bool no_erl = take_flag(argc, argv, "--no_erl").has_value();
  const auto rounds_flag = take_flag(argc, argv, "--rounds");
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const int rounds = rounds_flag ? std::max(1, std::atoi(rounds_flag->c_str())) : default_rounds;

  const auto terms = bench_terms();
  // --benchmark_filter picks items (the empty loop always runs).
  const std::regex filter(benchmark::GetBenchmarkFilter().empty() ? std::string(".")
                                                                  : benchmark::GetBenchmarkFilter());
  std::vector<item> items;
  for (const auto& i : bench_items(terms)) {
    if (i.op == "empty" || std::regex_search(i.name(), filter)) items.push_back(i);
  }
  std::map<std::string, timings> results;
  std::optional<erl_baseline> erl;
  std::string erl_version;
  try {
    const std::string erl_program = no_erl ? "" : usable_erl();
    if (erl_program.empty()) {
      std::fprintf(stderr, "erl %s: the erl baseline is skipped\n",
                   no_erl ? "not wanted (--no_erl)" : "not found");
    } else {
      erl.emplace(erl_program);
      erl_version = erl->version();
      for (const auto& t : terms) {
        const auto ours = etf::encode(t.value);
        if (erl->load(t) != std::string_view(reinterpret_cast<const char*>(ours.data()), ours.size()))
          throw std::runtime_error("erl's bytes for " + t.name + " differ from ours");
      }
      for (const auto& i : items) {
        if (!i.erl_side()) continue;
        std::fprintf(stderr, "erl: calibrating %s...\n", i.name().c_str());
        results[i.name()].iterations = erl->calibrate(i);
      }
      for (const auto& i : items) {
        if (!i.erl_side()) results[i.name()].iterations = results[i.calibrated_name()].iterations;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "erl baseline failed, skipped: %s\n", e.what());
    erl.reset();
  }

  for (const auto& i : items) {
    const auto n = results[i.name()].iterations;
    register_ours(i, erl && n > 0 ? std::optional(n) : std::nullopt);
  }
  run_collector collector;
  try {
    for (int round = 1; round <= rounds; ++round) {
      std::fprintf(stderr, "round %d of %d\n", round, rounds);
      for (const auto& i : items) {
        auto& r = results[i.name()];
        if (erl && i.erl_side()) r.erl.push_back(erl->run(i, r.iterations));
        // With a fixed iteration count, Google Benchmark appends it to the name.
        benchmark::RunSpecifiedBenchmarks(&collector, "^" + i.name() + "(/iterations:[0-9]+)?$");
        r.ours.push_back(collector.last());
        std::fprintf(stderr, "  %-24s ours %9.1f ns", i.name().c_str(), r.ours.back().cpu_ns);
        if (erl && i.erl_side()) std::fprintf(stderr, "  erl %9.1f ns", r.erl.back().cpu_ns);
        std::fprintf(stderr, "\n");
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "benchmark failed: %s\n", e.what());
    return 1;
  }
  benchmark::Shutdown();
  print_table(terms, results, erl.has_value(), erl_version, rounds);
  return 0;
}
