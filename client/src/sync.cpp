// The blocking client API (DESIGN.md §5): a client::channel driven by an
// io_context on a thread of its own. Every method spawns the coroutine
// API's method onto that io_context and waits for its future.
#include "capchan/client/sync.hpp"

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace capchan::client::sync {
namespace asio = boost::asio;

struct channel::io {
  asio::io_context context{1};
  // Keeps run() going between operations, until the channel is gone.
  asio::executor_work_guard<asio::io_context::executor_type> work{context.get_executor()};
  client::channel handle;
  std::thread thread;

  io() : thread([this] { context.run(); }) {}
  ~io() {
    // Dropping the handle starts a close if the owner did not; run() then
    // returns once the I/O coroutines have ended.
    asio::post(context, [h = std::move(handle)]() mutable { h = client::channel(); });
    work.reset();
    thread.join();
  }

  template <class Awaitable>
  auto run(Awaitable operation) {
    return asio::co_spawn(context, std::move(operation), asio::use_future).get();
  }
};

channel::channel(std::unique_ptr<io> io) : io_(std::move(io)) {}
channel::channel(channel&&) noexcept = default;
channel& channel::operator=(channel&& other) noexcept {
  if (this != &other) {
    if (io_) close();
    io_ = std::move(other.io_);
  }
  return *this;
}

channel::~channel() {
  if (io_) close();
}

result<void> channel::cast(term message) { return io_->run(io_->handle.cast(std::move(message))); }

result<term> channel::rpc(term message, std::chrono::milliseconds timeout) {
  return io_->run(io_->handle.rpc(std::move(message), timeout));
}

std::future<result<term>> channel::async_rpc(term message, std::chrono::milliseconds timeout) {
  return io_->handle.async_rpc(std::move(message), timeout);
}

incoming channel::receive() { return io_->run(io_->handle.receive()); }

std::optional<incoming> channel::receive_for(std::chrono::milliseconds timeout) {
  return io_->run(io_->handle.receive_for(timeout));
}

void channel::close() { io_->run(io_->handle.close()); }

bool channel::is_open() const { return io_->handle.is_open(); }
term channel::close_reason() const { return io_->handle.close_reason(); }
const std::string& channel::server_fingerprint() const { return io_->handle.server_fingerprint(); }
const std::string& channel::service() const { return io_->handle.service(); }

result<channel> connect(std::string host, std::uint16_t port, std::string service,
                        std::string password, term args_c, connect_options options) {
  auto io = std::make_unique<channel::io>();
  auto connected = io->run(client::connect(std::move(host), port, std::move(service),
                                           std::move(password), std::move(args_c),
                                           std::move(options)));
  if (!connected) return connected.error();
  io->handle = std::move(*connected);
  return channel(std::move(io));
}

result<channel> connect(const channel_url& url, std::string password, term args_c,
                        connect_options options) {
  if (!url.key.empty()) options.key = url.key;
  return sync::connect(url.host, url.port, url.service, std::move(password), std::move(args_c),
                       std::move(options));
}

}  // namespace capchan::client::sync
