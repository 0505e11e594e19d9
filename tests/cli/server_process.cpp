// See server_process.hpp.
#include "server_process.hpp"

#include "listening_line.hpp"

#include <signal.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace capchan::test {
namespace fs = std::filesystem;

namespace {

// Fast argon2id (t=1, 8 KiB: libsodium's minimum) keeps each login cheap;
// the CLI runs one per command.
constexpr const char* config_text = R"(port = 0
bind = "127.0.0.1"
key_file = "server.key"
data_dir = "data"

[[service]]
name = "nameServer"
password = "ABXy45"
handler = "kvs"
argon2id_ops = 1
argon2id_mem = "8KiB"

[[service]]
name = "echo"
password = "echo"
handler = "echo"
args = { greeting = "hello" }
argon2id_ops = 1
argon2id_mem = "8KiB"
)";

}  // namespace

temp_folder::temp_folder() {
  std::string pattern = (fs::temp_directory_path() / "capchan-cli-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  path_ = pattern;
}

temp_folder::~temp_folder() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

server_process::server_process(const std::string& extra_config)
    : server_process(whole_config{config_text + extra_config}) {}

server_process::server_process(const whole_config& whole) {
  const fs::path config = folder_.path() / "server.toml";
  write_file(config, whole.text);
  process_ = std::make_unique<child_process>(
      std::vector<std::string>{CAPCHAN_SERVER, "--config", config.string(), "--log-level", "error",
                               "--threads", std::to_string(whole.threads)},
      std::vector<std::string>{}, false);
  const auto listening = read_listening_line(*process_, "capchan-server");
  port_ = listening.port;
  fingerprint_ = listening.fingerprint;
}

server_process::~server_process() {
  if (process_) kill();
}

std::optional<int> server_process::terminate(std::chrono::milliseconds limit) {
  process_->signal(SIGTERM);
  return process_->wait(limit);
}

void server_process::kill() {
  process_->signal(SIGKILL);
  process_->wait();
}

}  // namespace capchan::test
