// The capchan side of capchan-bench: channels to a capchan-server process,
// through the public client API, as a user's program would hold them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "capchan/client/channel.hpp"
#include "capchan/client/options.hpp"
#include "capchan/core/term.hpp"

namespace capchan::bench {

// Where and how to log in; one password_cache for the whole run, so that
// argon2id runs once per service (DESIGN.md §3) and logins use the cache.
struct capchan_target {
  std::uint16_t port = 0;
  std::string fingerprint;
  std::string password;
  client::connect_options options() const;
  std::shared_ptr<client::password_cache> passwords;
};

boost::asio::awaitable<client::channel> open_channel(const capchan_target& target, std::string service);

// A channel to `echo` whose round trip is an rpc of a `payload`-byte binary,
// checked against the reply.
class echo_rpc_conn {
 public:
  static boost::asio::awaitable<std::unique_ptr<echo_rpc_conn>> connect(const capchan_target& target,
                                                                         std::size_t payload);
  echo_rpc_conn(client::channel ch, std::size_t payload);
  boost::asio::awaitable<void> round_trip();
  boost::asio::awaitable<void> close();
  client::channel& channel() { return channel_; }

 private:
  client::channel channel_;
  term payload_;
};

// A channel whose round trip is any rpc a function makes up (kvs puts and
// lookups: request(n) for the n-th call on this channel).
class request_conn {
 public:
  using request_fn = std::function<term(int conn, std::int64_t n)>;
  request_conn(client::channel ch, int index, request_fn request);
  boost::asio::awaitable<void> round_trip();
  boost::asio::awaitable<void> close();

 private:
  client::channel channel_;
  int index_;
  std::int64_t n_ = 0;
  request_fn request_;
};

// Connect, log in and close, `n` times one after another.
boost::asio::awaitable<void> connect_login_close(const capchan_target& target, std::size_t n);

// `n` casts of `{push, 0, Payload}` to echo (a counted cast that pushes
// nothing back), as fast as the channel takes them, then an rpc so that
// every cast has reached the server. Returns casts per second, counted to
// the rpc's reply.
boost::asio::awaitable<double> cast_burst(client::channel& ch, std::size_t n, std::size_t payload);

}  // namespace capchan::bench
