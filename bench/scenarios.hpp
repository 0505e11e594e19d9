// The scenarios of capchan-bench (issue 7), each with its in-run baseline.
// Each runs its sides in alternating rounds, so that a change in the shared
// machine's speed touches both sides of a ratio alike, and reports the range
// over rounds next to the figure.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "capchan_load.hpp"
#include "latency_plot.hpp"
#include "report.hpp"
#include "server_process.hpp"

namespace capchan::bench {

struct bench_env {
  std::filesystem::path dir;  // this run's files (server config, kvs data)
  bool quick = false;
  boost::asio::io_context* ioc = nullptr;  // the client load's; one thread runs it
  capchan_server_process* server = nullptr;
  std::filesystem::path server_binary;  // to start a server of a scenario's own (f)
  unsigned server_threads = 2;
  baseline_server_process* raw = nullptr;
  baseline_server_process* ws = nullptr;
  capchan_target target;
  std::vector<latency_series_data> latency;  // scenario a's samples, for the plot
  double capchan_rpc_p50 = 0;                // for the Redis comparison
};

struct scenario {
  std::string id;
  std::string title;
  std::function<void(bench_env&, scenario_report&)> run;
};

// a..g and redis, in the order they run.
std::vector<scenario> all_scenarios();

}  // namespace capchan::bench
