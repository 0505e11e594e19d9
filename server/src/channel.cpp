// call_message's one-shot answer, and the service registry.
#include "capchan/server/channel.hpp"
#include "capchan/server/service_registry.hpp"

namespace capchan::server {

call_message::call_message(call_message&& other) noexcept
    : id_(other.id_), message_(std::move(other.message_)), sink_(std::move(other.sink_)), answered_(other.answered_) {
  other.answered_ = true;  // the moved-from shell must not answer no_reply
}

call_message& call_message::operator=(call_message&& other) noexcept {
  if (this != &other) {
    if (!answered_) answer(false, term(atom("no_reply")));
    id_ = other.id_;
    message_ = std::move(other.message_);
    sink_ = std::move(other.sink_);
    answered_ = other.answered_;
    other.answered_ = true;
  }
  return *this;
}

call_message::~call_message() {
  if (!answered_) answer(false, term(atom("no_reply")));
}

void call_message::reply(term value) { answer(true, std::move(value)); }
void call_message::fail(term reason) { answer(false, std::move(reason)); }

void call_message::answer(bool ok, term value) {
  if (answered_) return;  // one-shot: a second answer is ignored
  answered_ = true;
  if (auto sink = sink_.lock()) sink->answer(id_, ok, std::move(value));
}

namespace {

// Adapts a lib_chan-style function to the service interface.
class function_service final : public service {
 public:
  function_service(handler_function fn, term args_s) : fn_(std::move(fn)), args_s_(std::move(args_s)) {}
  boost::asio::awaitable<void> run(channel& mm, const term& args_c) override { return fn_(mm, args_c, args_s_); }

 private:
  handler_function fn_;
  term args_s_;
};

}  // namespace

void service_registry::add(std::string handler_name, service_factory factory) {
  factories_[std::move(handler_name)] = std::move(factory);
}

void service_registry::add_function(std::string handler_name, handler_function fn) {
  add(std::move(handler_name), [fn = std::move(fn)](const service_context& ctx) -> std::unique_ptr<service> {
    return std::make_unique<function_service>(fn, ctx.args);
  });
}

const service_factory* service_registry::find(const std::string& handler_name) const {
  const auto it = factories_.find(handler_name);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> service_registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

}  // namespace capchan::server
