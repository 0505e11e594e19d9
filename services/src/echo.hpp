// The echo service's handler (see services.hpp).
#pragma once

#include "capchan/server/channel.hpp"

namespace capchan::services {

boost::asio::awaitable<void> echo_handler(server::channel& mm, const term& args_c, const term& args_s);

}  // namespace capchan::services
