// Runs the real `capchan` binary for the process-level tests, with a private
// XDG_CONFIG_HOME (a temp folder) so no test ever reads or writes the user's
// own known_hosts, and without the caller's CAPCHAN_PASSWORD.
#pragma once

#include <string>
#include <vector>

#include "process.hpp"
#include "server_process.hpp"

namespace capchan::test {

class cli_runner {
 public:
  // "CAPCHAN_PASSWORD=ABXy45": the book's password in the environment.
  static std::string book_password_env() {
    return std::string("CAPCHAN_PASSWORD=") + server_process::book_password;
  }

  // The environment every run gets, then `env` on top.
  std::vector<std::string> environment(const std::vector<std::string>& env) const {
    std::vector<std::string> all = {"CAPCHAN_PASSWORD",
                                    "XDG_CONFIG_HOME=" + config_home_.path().string()};
    all.insert(all.end(), env.begin(), env.end());
    return all;
  }

  // capchan ARGS..., with `env` ("NAME=value"), `input` on stdin.
  process_result run(std::vector<std::string> args,
                     const std::vector<std::string>& env = {book_password_env()},
                     const std::string& input = {}) const {
    args.insert(args.begin(), CAPCHAN_CLI);
    return run_process(args, input, environment(env), std::chrono::seconds(60));
  }

  // The flags that point at `server` and pin its key.
  static std::vector<std::string> pinned(const server_process& server) {
    return {"--port", std::to_string(server.port()), "--key", server.fingerprint()};
  }

  // A known_hosts file in the private config folder (not created).
  std::string known_hosts_file() const {
    return (config_home_.path() / "test_known_hosts").string();
  }
  const std::filesystem::path& config_home() const { return config_home_.path(); }

 private:
  temp_folder config_home_;
};

// `a` followed by `b`: builds argument lists.
inline std::vector<std::string> join(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace capchan::test
