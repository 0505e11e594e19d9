// Prometheus text exposition (format 0.0.4) of the server's counters.
#include "capchan/server/metrics.hpp"

#include <fmt/format.h>

#include <map>

namespace capchan::server {
namespace {

template <class T>
void family(std::string& out, const char* name, const char* type, const char* help, const std::atomic<T>& v) {
  fmt::format_to(std::back_inserter(out), "# HELP capchan_{} {}\n# TYPE capchan_{} {}\ncapchan_{} {}\n", name, help,
                 name, type, name, v.load(std::memory_order_relaxed));
}

// A label value: backslash, double quote and newline escaped (format 0.0.4).
std::string label_value(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string to_prometheus(const std::vector<std::pair<std::string, std::vector<service_metric>>>& by_service) {
  // Families in the order they first appear; the samples of one family together.
  struct family_samples {
    const service_metric* first;
    std::string samples;
  };
  std::vector<std::string> order;
  std::map<std::string, family_samples> families;
  for (const auto& [service, list] : by_service) {
    for (const auto& m : list) {
      auto [it, added] = families.try_emplace(m.name, family_samples{&m, {}});
      if (added) order.push_back(m.name);
      fmt::format_to(std::back_inserter(it->second.samples), "capchan_{}{{service=\"{}\"}} {}\n", m.name,
                     label_value(service), m.value);
    }
  }
  std::string out;
  for (const auto& name : order) {
    const auto& f = families.at(name);
    fmt::format_to(std::back_inserter(out), "# HELP capchan_{} {}\n# TYPE capchan_{} {}\n{}", name, f.first->help,
                   name, f.first->type == service_metric::kind::counter ? "counter" : "gauge", f.samples);
  }
  return out;
}

std::string metrics::to_prometheus() const {
  std::string out;
  family(out, "connections_open", "gauge", "TCP connections open now.", connections_open);
  family(out, "handshakes_in_progress", "gauge", "Connections accepted but not yet welcomed.", handshakes_in_progress);
  family(out, "channels_open", "gauge", "Authenticated channels open now.", channels_open);
  family(out, "handlers_running", "gauge", "Handler coroutines running now.", handlers_running);
  family(out, "outbox_bytes", "gauge", "Bytes queued to send, all connections.", outbox_bytes);
  family(out, "blocking_running", "gauge", "Blocking handlers running on a worker thread.", blocking_running);
  family(out, "blocking_waiting", "gauge", "Blocking handlers waiting for a free worker (limits.blocking_workers).",
         blocking_waiting);
  family(out, "outbox_peak_bytes", "gauge", "The largest outbox one connection has held (limits.outbox caps it).",
         outbox_peak_bytes);
  family(out, "connections_total", "counter", "TCP connections accepted.", connections_total);
  family(out, "rejected_max_connections_total", "counter", "Connections refused at limits.max_connections.",
         rejected_max_connections);
  family(out, "rejected_max_handshakes_total", "counter", "Connections refused at limits.max_handshakes.",
         rejected_max_handshakes);
  family(out, "http_requests_total", "counter", "Plain HTTP requests answered.", http_requests);
  family(out, "http_bad_requests_total", "counter", "Connections that sent no valid HTTP request (garbage, oversized).",
         http_bad_requests);
  family(out, "handshakes_ok_total", "counter", "Logins that reached welcome.", handshakes_ok);
  family(out, "handshakes_failed_total", "counter", "Connections that ended before welcome.", handshakes_failed);
  family(out, "auth_failed_total", "counter", "Logins refused: unknown service or wrong password.", auth_failed);
  family(out, "handshake_timeouts_total", "counter", "Connections closed at limits.handshake_timeout.",
         handshake_timeouts);
  family(out, "idle_timeouts_total", "counter", "Channels closed at limits.idle_timeout.", idle_timeouts);
  family(out, "frames_in_total", "counter", "Frames received on channels.", frames_in);
  family(out, "frames_out_total", "counter", "Frames sent on channels.", frames_out);
  family(out, "bytes_in_total", "counter", "WebSocket message bytes received.", bytes_in);
  family(out, "bytes_out_total", "counter", "WebSocket message bytes sent.", bytes_out);
  family(out, "rpc_total", "counter", "Calls received.", rpcs);
  family(out, "casts_in_total", "counter", "Casts received.", casts_in);
  family(out, "protocol_errors_total", "counter", "Connections closed for breaking the protocol.", protocol_errors);
  family(out, "messages_too_big_total", "counter", "Messages over the size limit.", messages_too_big);
  family(out, "decrypt_failures_total", "counter", "Records that failed authentication.", decrypt_failures);
  family(out, "overload_closes_total", "counter", "Channels closed at limits.outbox.", overload_closes);
  family(out, "mailbox_full_total", "counter", "Times a full mailbox (limits.mailbox) paused reading a socket.",
         mailbox_full);
  family(out, "handler_errors_total", "counter", "Handlers that ended with an exception.", handler_errors);
  return out;
}

}  // namespace capchan::server
