// One connection, from TCP accept to close (DESIGN.md §3, §4): it answers
// plain HTTP (/healthz, /metrics) or upgrades to a WebSocket at /capchan, runs
// the Noise NX handshake and the login, then the channel: a reader and the
// service's handler (coroutines) and a writer (completion handlers), all on
// this session's strand.
// Private to capchan_server.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/deque.hpp>

#include "capchan/core/crypto/noise.hpp"
#include "capchan/server/channel.hpp"
#include "mailbox.hpp"
#include "server_core.hpp"

namespace capchan::server {

class websocket_connection;

class session final : public channel, public reply_sink, public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket socket, std::shared_ptr<server_core> core, std::uint64_t id);
  ~session() override;

  // The whole life of the connection; returns when every task of it is done.
  boost::asio::awaitable<void> run();

  // From any thread: ends the channel with `reason` (shutdown, reload).
  void stop(term reason);
  // The same, if this session logs in to or runs `entry` (a reload retiring
  // it); every session when `entry` is null.
  void stop_if_serving(const std::shared_ptr<service_entry>& entry, term reason);
  // From any thread, after the shutdown grace period: cancels the handler if
  // it is still running and drops the connection; only if it serves
  // `entry`, when that is not null.
  void kill(const std::shared_ptr<service_entry>& entry = nullptr);

  // channel (on the strand, from the handler)
  boost::asio::awaitable<message> receive() override;
  void send(term push) override;
  void close(term reason) override;
  const std::string& service() const override { return service_name_; }
  std::uint64_t id() const override { return id_; }

  // reply_sink (any thread)
  void answer(std::int64_t id, bool ok, term value) override;

 private:
  // Reads the HTTP request; answers it unless it is capchan's WebSocket
  // upgrade (then true: open_channel() takes it from there).
  boost::asio::awaitable<bool> answer_http();
  // The WebSocket accept, the Noise handshake and the login; true once the
  // channel is open (welcome sent), and run_channel() serves it.
  boost::asio::awaitable<bool> open_channel();
  boost::asio::awaitable<bool> login();
  boost::asio::awaitable<void> run_channel();
  // The writer (on the strand): wake_writer() after queueing; write_next()
  // writes the outbox as one record, or the close; end_writer() at the end.
  void wake_writer();
  void write_next();
  template <class Then>
  void write_record(std::vector<std::uint8_t> record, Then then);
  void close_websocket();
  void end_writer();
  boost::asio::awaitable<void> run_handler();
  // The writer or the handler ended (on the strand).
  void task_ended(const std::exception_ptr& e);

  // Ends the channel: the handler sees chan_closed{reason}; when `notify`
  // the client gets {close, Reason} before the WebSocket close.
  void begin_close(term reason, bool notify);
  // For a peer that cannot be trusted or reached: no more writes, the
  // WebSocket closes with `code` (0: just drop the TCP connection).
  void abort(term reason, std::uint16_t code);
  void queue_frame(std::vector<std::uint8_t> frame);
  void protocol_failure(const std::string& what);

  std::shared_ptr<server_core> core_;
  const std::shared_ptr<const config::limits_config> limits_;  // as they were at accept
  const std::uint64_t id_;
  const std::chrono::steady_clock::time_point accepted_at_;
  std::string peer_;
  std::string service_name_;
  std::unique_ptr<websocket_connection> conn_;
  std::optional<crypto::noise::transport_ciphers> ciphers_;
  std::shared_ptr<service_entry> entry_;
  term args_c_;

  mailbox mailbox_;
  std::unordered_set<std::int64_t> calls_in_flight_;
  // encoded frames, not yet encrypted; Boost's deque allocates nothing
  // until used, std::deque a 512-byte block per idle channel.
  boost::container::deque<std::vector<std::uint8_t>> outbox_;
  std::size_t outbox_bytes_ = 0;
  std::vector<std::uint8_t> write_plain_;   // the batch being encrypted; kept while busy
  std::vector<std::uint8_t> write_record_;  // the record being written
  bool writer_enabled_ = false;  // run_channel() enables it: the writer is one of its tasks
  bool writer_woken_ = false;
  bool write_in_flight_ = false;
  bool writer_done_ = false;
  boost::asio::steady_timer tasks_done_;       // an event: a task of run_channel() ended
  boost::asio::cancellation_signal kill_signal_;  // kill() cancels the handler with it
  int tasks_running_ = 0;
  bool closing_ = false;       // no more frames are queued after the close
  bool send_close_frame_ = false;
  std::uint16_t close_code_ = 1000;
  bool connection_lost_ = false;  // nothing more can be written
  bool welcomed_ = false;  // the welcome is on its way: stop() closes the channel
  bool handshake_counted_ = false;
  std::optional<term> close_reason_;
};

}  // namespace capchan::server
