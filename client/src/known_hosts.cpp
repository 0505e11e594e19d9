// known_hosts (DESIGN.md §3): trust on first use, then strict. The file is
// small and read whole on every check; writes go through a temporary file
// and rename(2), so readers never see half a line.
#include "capchan/client/known_hosts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <vector>

namespace capchan::client {
namespace fs = std::filesystem;
namespace {

struct entry {
  std::string host_port;
  std::string fingerprint;
  std::size_t line = 0;
};

struct contents {
  std::string text;  // the whole file, to rewrite it with one more line
  std::vector<entry> entries;
  std::size_t lines = 0;
};

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

result<contents> load(const fs::path& file) {
  contents out;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    if (ec) return error(errc::known_hosts_error, "cannot look at " + quoted(file) + ": " + ec.message());
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return error(errc::known_hosts_error,
                 "cannot read " + quoted(file) + ": " + std::strerror(errno) +
                     " (fix its permissions, or pass the server's key with --key)");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out.text = buffer.str();

  std::string_view rest = out.text;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++out.lines;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t space = line.find_first_of(" \t");
    std::string_view host = line.substr(0, space);
    std::string_view fp = space == std::string_view::npos ? std::string_view() : trim(line.substr(space));
    if (fp.empty() || fp.find_first_of(" \t") != std::string_view::npos || !fp.starts_with("SHA256:") ||
        host.find(':') == std::string_view::npos) {
      // Strict: a damaged line might be the very entry that should stop us.
      return error(errc::known_hosts_error,
                   quoted(file) + " line " + std::to_string(out.lines) +
                       " is not 'host:port SHA256:...'; fix or remove that line");
    }
    out.entries.push_back({std::string(host), std::string(fp), out.lines});
  }
  return out;
}

// Writes `text` to `file` atomically: a fresh temporary file in the same
// folder (so rename cannot cross file systems), fsync, rename.
std::error_code write_atomically(const fs::path& file, const std::string& text) {
  std::error_code ec;
  const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return ec;
    fs::permissions(dir, fs::perms::owner_all, ec);  // ~/.config/capchan: 0700
    ec.clear();
  }
  std::random_device random;
  const fs::path tmp = dir / (file.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                              std::to_string(random()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return {errno, std::generic_category()};
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ec = {errno, std::generic_category()};
      ::close(fd);
      ::unlink(tmp.c_str());
      return ec;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ec = {errno, std::generic_category()};
    ::unlink(tmp.c_str());
    return ec;
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    ec = {errno, std::generic_category()};
    ::unlink(tmp.c_str());
    return ec;
  }
  return {};
}

}  // namespace

fs::path known_hosts::default_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "capchan" / "known_hosts";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".config" / "capchan" / "known_hosts";
}

result<std::string> known_hosts::find(std::string_view host_port) const {
  auto c = load(file_);
  if (!c) return c.error();
  for (const entry& e : c->entries) {
    if (e.host_port == host_port) return e.fingerprint;
  }
  return std::string();
}

result<known_hosts::verdict> known_hosts::check(std::string_view host_port,
                                                std::string_view fingerprint) const {
  auto c = load(file_);
  if (!c) return c.error();
  const entry* first = nullptr;
  for (const entry& e : c->entries) {
    if (e.host_port != host_port) continue;
    if (e.fingerprint == fingerprint) return verdict{outcome::matched, e.line, {}};
    if (!first) first = &e;
  }
  if (first) {
    return error(errc::server_key_mismatch,
                 std::string(host_port) + " presented the key " + std::string(fingerprint) + ", but " +
                     quoted(file_) + " line " + std::to_string(first->line) + " records " +
                     first->fingerprint +
                     ". Either someone is intercepting this connection, or the server's key was "
                     "replaced. If you know the key changed (ask the server's operator for "
                     "`capchan config fingerprint`), remove line " +
                     std::to_string(first->line) + " from " + quoted(file_) + " and connect again");
  }

  // First use: append the entry.
  std::string text = c->text;
  std::size_t line = c->lines + 1;
  if (!text.empty() && text.back() != '\n') text += '\n';
  if (text.empty()) {
    text = "# capchan known_hosts: server keys by host:port (trust on first use).\n";
    line = 2;
  }
  text += std::string(host_port) + " " + std::string(fingerprint) + "\n";
  if (std::error_code ec = write_atomically(file_, text)) {
    return verdict{outcome::not_recorded, 0, "cannot write " + quoted(file_) + ": " + ec.message()};
  }
  return verdict{outcome::recorded, line, {}};
}

}  // namespace capchan::client
