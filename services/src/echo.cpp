// echo: the smallest useful service, for tests, demos and benchmarks.
//   call Msg          -> reply Msg
//   cast Msg          -> push Msg back
//   {push, N, T}      -> push N copies of T (as a call it then replies {ok, N})
//   call {fail, R}    -> fails the call with R: the client gets {fail, Id, R}
//   call args         -> {args, ArgsC, ArgsS}: what the client's login and the
//                        server's config handed this handler
#include "echo.hpp"

namespace capchan::services {
namespace {

// A client may ask for many pushes, but one request stays bounded so that a
// single message cannot make the server queue unbounded work (the outbox limit
// still applies on top).
constexpr std::int64_t max_push_count = 1'000'000;

// N if `msg` is {push, N, T} with 0 <= N <= max_push_count.
const term* push_request(const term& msg, std::int64_t& n) {
  const auto* t = msg.as_tuple();
  if (!t || t->elements.size() != 3 || !t->elements[0].is_atom("push")) return nullptr;
  const auto* count = t->elements[1].as_int64();
  if (!count || *count < 0 || *count > max_push_count) return nullptr;
  n = *count;
  return &t->elements[2];
}

// R if `msg` is {fail, R}.
const term* fail_request(const term& msg) {
  const auto* t = msg.as_tuple();
  if (!t || t->elements.size() != 2 || !t->elements[0].is_atom("fail")) return nullptr;
  return &t->elements[1];
}

}  // namespace

boost::asio::awaitable<void> echo_handler(server::channel& mm, const term& args_c, const term& args_s) {
  for (;;) {
    auto msg = co_await mm.receive();
    if (std::holds_alternative<server::chan_closed>(msg)) co_return;
    std::int64_t n = 0;
    if (auto* call = std::get_if<server::call_message>(&msg)) {
      if (const term* payload = push_request(call->message(), n)) {
        for (std::int64_t i = 0; i < n; ++i) mm.send(*payload);
        call->reply(tuple(atom("ok"), n));
      } else if (const term* reason = fail_request(call->message())) {
        call->fail(*reason);
      } else if (call->message().is_atom("args")) {
        call->reply(tuple(atom("args"), args_c, args_s));
      } else {
        call->reply(call->message());
      }
    } else if (auto* cast = std::get_if<server::cast_message>(&msg)) {
      if (const term* payload = push_request(cast->message, n)) {
        for (std::int64_t i = 0; i < n; ++i) mm.send(*payload);
      } else {
        mm.send(std::move(cast->message));
      }
    }
  }
}

}  // namespace capchan::services
