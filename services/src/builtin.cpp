// Registration of the services capchan ships.
#include "capchan/services/services.hpp"
#include "echo.hpp"

namespace capchan::services {

void register_kvs(server::service_registry& registry);

void register_builtin(server::service_registry& registry) {
  registry.add_function("echo", echo_handler);
  register_kvs(registry);
}

}  // namespace capchan::services
