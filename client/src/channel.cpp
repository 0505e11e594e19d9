// The coroutine API's channel handle and connect() (DESIGN.md §5). cast()
// and rpc() run on the caller's executor (connection.hpp says how); the
// other methods hop onto the connection's strand with co_spawn and back to
// the caller's executor. Each operation holds a shared_ptr, so the
// connection outlives every operation started on it.
//
// The spawned lambdas are named locals, never temporaries inside the co_await
// expression: GCC 11 and 12 have been seen to destroy the captures of such a
// temporary twice (Asio issues #858 and #1135).
#include "capchan/client/channel.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "connection.hpp"

namespace capchan::client {
namespace asio = boost::asio;
namespace {

error no_channel() { return error(errc::closed, "this channel handle holds no channel"); }

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

}  // namespace

channel::channel(std::shared_ptr<connection> c) : connection_(std::move(c)) {}

channel& channel::operator=(channel&& other) noexcept {
  if (this != &other) {
    channel old(std::move(*this));  // closes the old channel as it goes
    connection_ = std::move(other.connection_);
  }
  return *this;
}

channel::~channel() {
  // Not closed by its owner: start the close; the I/O coroutines finish it.
  if (connection_ && connection_->is_open()) {
    asio::post(connection_->strand(), [c = connection_] { c->begin_close(); });
  }
}

asio::awaitable<result<void>> channel::cast(term message) {
  auto c = connection_;
  if (!c) co_return no_channel();
  auto op = c->cast(std::move(message));
  co_return co_await std::move(op);
}

asio::awaitable<result<term>> channel::rpc(term message, std::chrono::milliseconds timeout) {
  auto c = connection_;
  if (!c) co_return no_channel();
  auto op = c->rpc(std::move(message), timeout);
  co_return co_await std::move(op);
}

std::future<result<term>> channel::async_rpc(term message, std::chrono::milliseconds timeout) {
  if (!connection_) {
    std::promise<result<term>> none;
    none.set_value(no_channel());
    return none.get_future();
  }
  return asio::co_spawn(
      connection_->strand(),
      [c = connection_, m = std::move(message), timeout]() mutable { return c->rpc(std::move(m), timeout); },
      asio::use_future);
}

asio::awaitable<std::optional<incoming>> channel::receive_for(std::chrono::milliseconds timeout) {
  auto c = connection_;
  if (!c) co_return incoming(chan_closed{atom("normal")});
  const auto deadline = detail::deadline_after(timeout);
  auto op = [c, deadline] { return c->receive(deadline); };
  co_return co_await asio::co_spawn(c->strand(), std::move(op), asio::use_awaitable);
}

asio::awaitable<incoming> channel::receive() {
  auto got = co_await receive_for(no_timeout);
  // Without a deadline, only cancellation returns nothing: report it the way
  // Asio's own operations do.
  if (!got) throw boost::system::system_error(asio::error::operation_aborted);
  co_return std::move(*got);
}

asio::awaitable<void> channel::close() {
  auto c = connection_;
  if (!c) co_return;
  auto op = [c] { return c->close(); };
  co_await asio::co_spawn(c->strand(), std::move(op), asio::use_awaitable);
}

bool channel::is_open() const { return connection_ && connection_->is_open(); }

term channel::close_reason() const { return connection_ ? connection_->close_reason() : term(); }

const std::string& channel::server_fingerprint() const {
  return connection_ ? connection_->server_fingerprint() : empty_string();
}

const std::string& channel::service() const {
  return connection_ ? connection_->service() : empty_string();
}

asio::awaitable<result<channel>> connect(std::string host, std::uint16_t port, std::string service,
                                         std::string password, term args_c,
                                         connect_options options) {
  auto c = std::make_shared<connection>(co_await asio::this_coro::executor, std::move(options));
  auto op = [c, host = std::move(host), port, service = std::move(service),
             password = std::move(password), args_c = std::move(args_c)]() mutable {
    return c->open(std::move(host), port, std::move(service), std::move(password),
                   std::move(args_c));
  };
  auto opened = co_await asio::co_spawn(c->strand(), std::move(op), asio::use_awaitable);
  if (!opened) co_return opened.error();
  c->start();
  co_return channel(std::move(c));
}

asio::awaitable<result<channel>> connect(channel_url url, std::string password, term args_c,
                                         connect_options options) {
  if (!url.key.empty()) options.key = url.key;
  co_return co_await connect(url.host, url.port, url.service, std::move(password), std::move(args_c),
                             std::move(options));
}

}  // namespace capchan::client
