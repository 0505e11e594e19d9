// The server's counters, exported at GET /metrics in Prometheus text format
// (DESIGN.md §3, §4). Counters only grow; gauges go up and down. All are
// atomics: sessions on many strands update them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace capchan::server {

struct metrics {
  // gauges
  std::atomic<std::int64_t> connections_open{0};
  std::atomic<std::int64_t> handshakes_in_progress{0};
  std::atomic<std::int64_t> channels_open{0};
  std::atomic<std::int64_t> handlers_running{0};
  std::atomic<std::int64_t> outbox_bytes{0};
  std::atomic<std::int64_t> blocking_running{0};  // blocking handlers on a worker
  std::atomic<std::int64_t> blocking_waiting{0};  // blocking handlers waiting for one
  // The largest outbox one connection has held (never above limits.outbox).
  std::atomic<std::int64_t> outbox_peak_bytes{0};
  // counters
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> rejected_max_connections{0};
  std::atomic<std::uint64_t> rejected_max_handshakes{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> http_bad_requests{0};
  std::atomic<std::uint64_t> handshakes_ok{0};
  std::atomic<std::uint64_t> handshakes_failed{0};
  std::atomic<std::uint64_t> auth_failed{0};
  std::atomic<std::uint64_t> handshake_timeouts{0};
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> frames_in{0};
  std::atomic<std::uint64_t> frames_out{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> rpcs{0};
  std::atomic<std::uint64_t> casts_in{0};
  std::atomic<std::uint64_t> protocol_errors{0};
  std::atomic<std::uint64_t> messages_too_big{0};
  std::atomic<std::uint64_t> decrypt_failures{0};
  std::atomic<std::uint64_t> overload_closes{0};
  std::atomic<std::uint64_t> mailbox_full{0};
  std::atomic<std::uint64_t> handler_errors{0};

  // Prometheus text exposition format 0.0.4, one `capchan_...` family each.
  std::string to_prometheus() const;
};

// A value a service reports at /metrics (service::service_metrics): the sample
// `capchan_<name>{service="<entry name>"} <value>` of a gauge or counter
// family. Counter names end in `_total`.
struct service_metric {
  enum class kind { gauge, counter };
  std::string name;
  kind type = kind::gauge;
  std::string help;
  std::int64_t value = 0;
};

// The Prometheus text of the services' metrics, given as (entry name, its
// metrics) pairs: each family once, with its HELP and TYPE, and one sample
// per service that reports it.
std::string to_prometheus(const std::vector<std::pair<std::string, std::vector<service_metric>>>& by_service);

}  // namespace capchan::server
