// `capchan config reload`: finds the server of a config by the pid file in
// its data_dir, makes sure that process is capchan-server, sends it SIGHUP
// and waits for the reload status file to show the new generation, then
// prints what the server said (docs/config.md).
#pragma once

#include <chrono>

#include "capchan/config/server_config.hpp"

namespace capchan::cli {

// Exit code: 0 reloaded, 1 the server refused the file (it keeps its
// running config), 4 no server to reload (or it did not answer in `limit`).
int reload_server(const config::server_config& config, std::chrono::milliseconds limit);

}  // namespace capchan::cli
