// capchan-bench: the benchmark suite of issue 7, each scenario with its
// baseline measured in the same invocation (DESIGN.md §9: absolute numbers
// drift on a shared machine, ratios hold). capchan-server, the raw TCP and
// plain WebSocket echo servers (this binary with --serve) and Redis run as
// child processes on 127.0.0.1; the client load runs here, on one thread.
//
//   capchan-bench                       the whole suite: progress on stderr,
//                                       the table on stdout, the JSON and the
//                                       latency plot in bench/results/
//   capchan-bench --scenario a          one scenario (a..g, redis; repeatable)
//   capchan-bench --quick               tiny counts: proves it runs, measures nothing
//   capchan-bench --serve raw-tcp|ws    a baseline server (used by the harness)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "baselines.hpp"
#include "capchan/client/password_cache.hpp"
#include "latency_plot.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "server_process.hpp"

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using namespace capchan::bench;

constexpr const char* bench_password = "capchan-bench";

std::string local_time(const char* format) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char text[64];
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

fs::path own_directory() {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this program's path: " + ec.message());
  return self.parent_path();
}

fs::path make_run_dir(const fs::path& parent) {
  fs::create_directories(parent);
  std::string pattern = (parent / "capchan-bench-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a directory in " + parent.string());
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"capchan-bench: capchan against in-run baselines (raw TCP, plain WebSocket, Redis)"};
  std::vector<std::string> chosen;
  bool quick = false;
  std::string serve;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string results_dir = CAPCHAN_BENCH_RESULTS;
  std::string work_parent = fs::temp_directory_path().string();
  bool no_results = false;
  app.add_option("--scenario", chosen, "Run only these (a, b, c, d, e, f, g, redis)");
  app.add_flag("--quick", quick, "Tiny counts: checks that the harness works; the figures mean nothing");
  app.add_option("--serve", serve, "Run a baseline echo server (raw-tcp or ws) and nothing else");
  app.add_option("--threads", threads, "Server I/O threads (capchan-server and the baselines)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  app.add_option("--results", results_dir, "Where the JSON and the PNG go")->capture_default_str();
  app.add_flag("--no-results", no_results, "Write no JSON or PNG (tests)");
  app.add_option("--work-dir", work_parent,
                 "Parent of this run's files (kvs data: put it on a real disk, fsync on tmpfs is free)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!serve.empty()) return serve_baseline(serve, threads);

  auto scenarios = all_scenarios();
  std::set<std::string> wanted(chosen.begin(), chosen.end());
  for (const auto& w : wanted) {
    bool known = false;
    for (const auto& s : scenarios) known = known || s.id == w;
    if (!known) {
      std::fprintf(stderr, "capchan-bench: no scenario '%s' (a, b, c, d, e, f, g, redis)\n", w.c_str());
      return 2;
    }
  }

  run_report report;
  report.date = local_time("%Y-%m-%d");
  report.started_at = local_time("%Y-%m-%dT%H:%M:%S");
  report.quick = quick;
  report.cores = std::thread::hardware_concurrency();
  const auto started = std::chrono::steady_clock::now();
  int status = 0;
  try {
    const std::uint64_t files = raise_file_limit();
    const fs::path run_dir = make_run_dir(work_parent);
    std::fprintf(stderr, "capchan-bench: files in %s, file limit %llu, %u server threads\n", run_dir.c_str(),
                 static_cast<unsigned long long>(files), threads);
    const fs::path bin = own_directory();
    capchan_server_process server(bin / "capchan-server", run_dir, bench_password, threads);
    baseline_server_process raw(bin / "capchan-bench", "raw-tcp", threads);
    baseline_server_process ws(bin / "capchan-bench", "ws", threads);

    asio::io_context ioc(1);
    auto work = asio::make_work_guard(ioc);
    std::thread client_thread([&] { ioc.run(); });
    bench_env env;
    env.dir = run_dir;
    env.quick = quick;
    env.ioc = &ioc;
    env.server = &server;
    env.server_binary = bin / "capchan-server";
    env.server_threads = threads;
    env.raw = &raw;
    env.ws = &ws;
    env.target.port = server.port();
    env.target.fingerprint = server.fingerprint();
    env.target.password = bench_password;
    env.target.passwords = std::make_shared<capchan::client::password_cache>();

    for (const auto& s : scenarios) {
      if (!wanted.empty() && !wanted.contains(s.id)) continue;
      std::fprintf(stderr, "(%s) %s\n", s.id.c_str(), s.title.c_str());
      scenario_report r;
      r.id = s.id;
      r.title = s.title;
      try {
        s.run(env, r);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "  failed: %s\n", e.what());
        r.skipped = std::string("failed: ") + e.what();
        status = 1;
      }
      report.scenarios.push_back(std::move(r));
    }
    work.reset();
    client_thread.join();

    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!no_results) {
      const fs::path out = results_dir;
      fs::create_directories(out);
      if (!env.latency.empty()) {
        const auto png = out / (report.date + "-latency.png");
        if (write_latency_plot(png, "(a) rpc round trip, 64-byte payload, 1 connection", env.latency)) {
          report.files.push_back(png.string());
        }
      }
      const auto json = out / (report.date + ".json");
      report.files.push_back(json.string());
      write_json(report, json);
    }
    print_table(report);
    std::error_code ec;
    fs::remove_all(run_dir, ec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "capchan-bench: %s\n", e.what());
    return 1;
  }
  return status;
}
