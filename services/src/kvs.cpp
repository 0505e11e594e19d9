// kvs in the book's form (DESIGN.md §7, seeds/003: mod_name_server): one store
// per [[service]] entry, shared by all its channels.
//   {store, K, V}  cast: K now maps to V
//   {lookup, K}    call: {ok, V} | undefined
// Keys and values are any terms. In memory for now; the durable store with
// put/delete/list/cas/watch arrives with its own issue.
#include <mutex>
#include <unordered_map>

#include "capchan/services/services.hpp"

namespace capchan::services {
namespace {

class memory_kvs final : public server::service {
 public:
  boost::asio::awaitable<void> run(server::channel& mm, const term&) override {
    for (;;) {
      auto msg = co_await mm.receive();
      if (std::holds_alternative<server::chan_closed>(msg)) co_return;
      if (auto* cast = std::get_if<server::cast_message>(&msg)) {
        store(cast->message);  // lib_chan drops casts it does not understand; so do we
      } else if (auto* call = std::get_if<server::call_message>(&msg)) {
        answer(*call);
      }
    }
  }

 private:
  void store(const term& msg) {
    const auto* t = msg.as_tuple();
    if (!t || t->elements.size() != 3 || !t->elements[0].is_atom("store")) return;
    std::lock_guard lock(mutex_);
    table_.insert_or_assign(t->elements[1], t->elements[2]);
  }

  void answer(server::call_message& call) {
    const auto* t = call.message().as_tuple();
    if (t && t->elements.size() == 2 && t->elements[0].is_atom("lookup")) {
      std::lock_guard lock(mutex_);
      const auto it = table_.find(t->elements[1]);
      if (it == table_.end()) {
        call.reply(atom("undefined"));
      } else {
        call.reply(tuple(atom("ok"), it->second));
      }
      return;
    }
    if (t && t->elements.size() == 3 && t->elements[0].is_atom("store")) {
      store(call.message());  // a store sent as an rpc is acknowledged
      call.reply(atom("ok"));
      return;
    }
    call.fail(tuple(atom("badarg"), call.message()));
  }

  // Channels of one service run on different strands.
  std::mutex mutex_;
  std::unordered_map<term, term> table_;
};

}  // namespace

void register_kvs(server::service_registry& registry) {
  registry.add("kvs", [](const server::service_context&) -> std::unique_ptr<server::service> {
    return std::make_unique<memory_kvs>();
  });
}

}  // namespace capchan::services
