// One client connection (DESIGN.md §3, §5): the login phase (login.cpp) and
// the channel phase (connection.cpp) of a capchan channel, behind the
// channel handles of channel.hpp and sync.hpp.
//
// Everything here runs on one strand: the login coroutine, then one reader
// and one writer coroutine, and the strand-side half of every channel method
// (the handles co_spawn onto strand()). Members are touched only there,
// except the few marked "any thread" and those under queue_mutex_: cast()
// and rpc() queue their frame and register their call from the caller's
// thread when the channel is open and the outbox has room, and the rpc's
// reply completes the caller's wait directly. Only the rare cases (closed,
// outbox full, message too large) hop onto the strand; a hop per message
// cost more than the rest of the client together. The reader and writer
// each hold a shared_ptr to the connection, so it lives until both have
// ended; close() waits for them.
//
// Queues are bounded: pushes by connect_options::max_pushes (when full, the
// reader stops reading the socket), the outbox by max_outbox bytes (when
// full, senders wait). Pending rpcs live in a map by Id; Ids come from a
// counter and are never reused, so a reply for an Id at or below the counter
// that is no longer pending is the late reply of a timed-out rpc, dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "capchan/client/channel.hpp"
#include "capchan/client/error.hpp"
#include "capchan/client/options.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/frame.hpp"
#include "capchan/core/term.hpp"
#include "strand_condition.hpp"

namespace capchan::client {

// DESIGN.md §3: login-phase messages are at most 4 KiB as received.
inline constexpr std::size_t login_message_max = 4096;
// DESIGN.md §3: the WebSocket subprotocol and path of wire protocol v1.
inline constexpr std::string_view subprotocol = "capchan.v1";
inline constexpr std::string_view websocket_path = "/capchan";

class connection : public std::enable_shared_from_this<connection> {
 public:
  using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

  connection(const boost::asio::any_io_executor& executor, connect_options options);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  const strand_type& strand() const { return strand_; }

  // ---- login phase (login.cpp) ----------------------------------------------
  // TCP, WebSocket upgrade, Noise NX, server key check, login (DESIGN.md §3).
  // On success the channel is open; call start() next.
  boost::asio::awaitable<result<void>> open(std::string host, std::uint16_t port,
                                            std::string service, std::string password,
                                            term args_c);

  // ---- channel phase (connection.cpp) ---------------------------------------
  // Spawns the reader and the writer.
  void start();
  // Any thread (the caller's coroutine stays on its own executor).
  boost::asio::awaitable<result<void>> cast(term message);
  boost::asio::awaitable<result<term>> rpc(term message, std::chrono::milliseconds timeout);
  // nullopt at the deadline (or when the caller is cancelled).
  boost::asio::awaitable<std::optional<incoming>> receive(detail::clock::time_point deadline);
  // Sends {close, normal} if the channel is open, then waits for the end.
  boost::asio::awaitable<void> close();
  // From a handle's destructor: starts close() without waiting.
  void begin_close();

  // Any thread.
  bool is_open() const { return open_.load(); }
  term close_reason() const;
  // Set by open() before the handle exists, constant afterwards.
  const std::string& server_fingerprint() const { return fingerprint_; }
  const std::string& service() const { return service_; }

 private:
  struct transport;  // the Beast WebSocket stream (transport.hpp)
  // An rpc from the moment its frame is queued until its caller resumes.
  // Fields below `timeout` are guarded by queue_mutex_.
  struct pending_call {
    std::int64_t id = 0;
    detail::clock::time_point deadline;
    std::chrono::milliseconds timeout{};
    std::optional<result<term>> outcome;  // settled before the caller waited
    // Optional and never move-assigned: Boost 1.81's any_completion_handler
    // move assignment recurses without end.
    std::optional<boost::asio::any_completion_handler<void(result<term>)>> waiter;
    // Keeps the waiter's io_context running while it waits (no I/O object does).
    std::optional<boost::asio::any_io_executor> work;
    std::optional<boost::asio::steady_timer> timer;  // for a finite timeout, on the strand
  };
  using waiter_type = boost::asio::any_completion_handler<void(result<term>)>;
  enum class phase { login, open, closing, closed };

  // login.cpp
  result<void> check_server_key(const std::string& where, const crypto::noise::public_key& key);
  boost::asio::awaitable<result<void>> write_login_frame(const std::string& where,
                                                         const std::vector<std::uint8_t>& frame);
  boost::asio::awaitable<result<std::vector<std::uint8_t>>> read_login_message(
      const std::string& where, std::string_view waiting_for);
  void note(std::string_view text) const;

  // connection.cpp
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  // Handles one channel frame from the server; false when the reader must
  // stop handling this message (the server broke the protocol).
  bool handle(frames::frame f);
  void deliver(std::int64_t id, result<term> outcome);
  // We end the channel because the server broke the protocol: `text` goes
  // into {protocol_error, Text}; `tell_peer` sends that close frame (not for
  // a peer whose bytes we cannot trust); `ws_code` is the WebSocket close code.
  void fail_protocol(std::string text, bool tell_peer, std::uint16_t ws_code);
  // Enters the closing phase with this reason, unless a reason is already set.
  void enter_closing(term reason, std::optional<frames::frame> last_frame);
  void finish(term fallback_reason);
  void force_disconnect();
  boost::asio::awaitable<result<void>> wait_for_room(std::size_t bytes,
                                                     detail::clock::time_point deadline);
  // Any thread: encodes and bounds-checks a frame (uses only options_).
  result<std::vector<std::uint8_t>> encode_outgoing(frames::frame f) const;
  // Any thread: queues `bytes` (and registers `call`, if any) when the
  // channel is open and the outbox has room; false leaves both untouched.
  bool try_enqueue(std::vector<std::uint8_t>& bytes, const std::shared_ptr<pending_call>& call);
  // The same decision on the strand, waiting for room until `deadline`, with
  // the errors of a closed channel or a frame too large.
  boost::asio::awaitable<result<void>> queue_on_strand(result<std::vector<std::uint8_t>> bytes,
                                                       std::shared_ptr<pending_call> call,
                                                       detail::clock::time_point deadline);
  boost::asio::awaitable<result<void>> queue_via_strand(result<std::vector<std::uint8_t>> bytes,
                                                        std::shared_ptr<pending_call> call,
                                                        detail::clock::time_point deadline);
  // Any thread: completes `waiter` with the call's outcome, now or later.
  // `work` is the waiter's executor (detail::work_of).
  void await_outcome(const std::shared_ptr<pending_call>& call, waiter_type waiter,
                     boost::asio::any_io_executor work);
  // Any thread: the caller stops waiting (timeout, cancellation).
  void give_up(const std::shared_ptr<pending_call>& call, error why);
  // Under queue_mutex_: hands the outcome to the waiter, or keeps it for one.
  void settle(pending_call& call, result<term> outcome);
  std::int64_t next_id();
  // Strand: queues a frame (the slow paths and the close frame).
  void enqueue(std::vector<std::uint8_t> bytes);
  // Under queue_mutex_.
  bool room_for(std::size_t bytes) const;
  error closed_error() const;
  std::size_t max_plaintext() const;

  strand_type strand_;
  connect_options options_;
  std::unique_ptr<transport> transport_;
  crypto::noise::transport_ciphers ciphers_;
  std::string service_;
  std::string fingerprint_;
  crypto::noise::public_key server_key_{};

  phase phase_ = phase::login;
  std::optional<term> reason_;  // the first reason decided, by either side
  detail::clock::time_point closing_deadline_ = detail::clock::time_point::max();
  std::optional<std::uint16_t> ws_close_code_;  // the writer closes the WebSocket with it
  bool ignore_input_ = false;                    // after we found the server broken

  // Guards the outbox, the pending calls, last_id_, writer_idle_ and the
  // changes of open_ (so no frame is queued after the close frame).
  mutable std::mutex queue_mutex_;
  std::deque<std::vector<std::uint8_t>> outbox_;  // encoded frames, in order
  std::size_t outbox_bytes_ = 0;
  std::unordered_map<std::int64_t, std::shared_ptr<pending_call>> calls_;
  std::int64_t last_id_ = 0;
  bool writer_idle_ = false;  // a frame queued off the strand must wake the writer
  std::deque<term> pushes_;
  bool reader_done_ = false;
  bool writer_done_ = false;

  detail::strand_condition writer_wake_;    // outbox not empty, or phase changed
  detail::strand_condition room_;           // outbox has room, or phase changed
  detail::strand_condition pushes_ready_;   // a push arrived, or the channel ended
  detail::strand_condition reader_resume_;  // receive() made room in pushes_
  detail::strand_condition io_done_;        // the reader or the writer ended

  std::atomic<bool> open_{false};
  mutable std::mutex final_mutex_;
  term final_reason_;
};

}  // namespace capchan::client
