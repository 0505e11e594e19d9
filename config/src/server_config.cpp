// Loading and validating the server config (DESIGN.md §4). The loader walks
// the TOML tree once, collecting every problem with its line, so that a person
// fixes a file in one pass instead of one error per restart.
#include "capchan/config/server_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "capchan/config/toml_term.hpp"
#include "capchan/config/units.hpp"
#include "capchan/core/utf8.hpp"

namespace capchan::config {
namespace {

namespace fs = std::filesystem;

// A config file is a few kilobytes; refusing huge files keeps a mistaken path
// (a log, a disk image) from being read into memory.
constexpr std::uintmax_t max_config_bytes = 4u << 20;
// Service names travel in {login, Name::binary}; keep them short and printable.
constexpr std::size_t max_service_name_bytes = 255;
// Floors below which a limit makes the server unusable, not safer.
constexpr std::uint64_t min_max_message = 4096;  // login-phase messages are up to 4 KiB
constexpr std::int64_t max_blocking_workers = 1024;  // threads, not a queue entry each
constexpr std::chrono::milliseconds min_timeout{100};

class loader {
 public:
  explicit loader(const fs::path& path) : path_(path), file_(path.string()) {}

  load_result run(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      error(e.source().begin.line, "", std::string(e.description()));
      return problems_;
    }
    server_config cfg;
    cfg.path = path_;
    cfg.key_file = resolve("server.key");
    cfg.data_dir = resolve("data");
    for (const auto& [key, node] : root) {
      const std::string name(key.str());
      if (name == "port") {
        if (auto v = integer(node, name, 0, 65535)) cfg.port = static_cast<std::uint16_t>(*v);
      } else if (name == "bind") {
        if (auto v = bind_address(node, name)) cfg.bind = *v;
      } else if (name == "key_file") {
        if (auto v = string(node, name)) cfg.key_file = resolve(*v);
      } else if (name == "data_dir") {
        if (auto v = string(node, name)) cfg.data_dir = resolve(*v);
      } else if (name == "limits") {
        load_limits(node, cfg.limits);
      } else if (name == "service") {
        load_services(node, cfg.services);
      } else {
        unknown(key);
      }
    }
    if (cfg.limits.max_handshakes > cfg.limits.max_connections) {
      error(line_of(root["limits"].node()), "limits.max_handshakes",
            "is larger than limits.max_connections (" + std::to_string(cfg.limits.max_connections) + ")");
    }
    if (!problems_.empty()) return problems_;
    cfg.warnings = std::move(warnings_);
    return cfg;
  }

 private:
  static std::size_t line_of(const toml::node* node) { return node ? node->source().begin.line : 0; }

  void error(std::size_t line, std::string key, std::string message) {
    problems_.push_back({file_, line, std::move(key), std::move(message)});
  }
  void error(const toml::node& node, const std::string& key, std::string message) {
    error(line_of(&node), key, std::move(message));
  }
  void unknown(const toml::key& key, const std::string& prefix = "") {
    error(key.source().begin.line, prefix + std::string(key.str()), "unknown key");
  }

  fs::path resolve(const std::string& p) const {
    const fs::path path(p);
    return (path.is_absolute() ? path : path_.parent_path() / path).lexically_normal();
  }

  std::optional<std::int64_t> integer(const toml::node& node, const std::string& key, std::int64_t min,
                                      std::int64_t max) {
    const auto* v = node.as_integer();
    if (!v) {
      error(node, key, "expected an integer");
      return std::nullopt;
    }
    if (v->get() < min || v->get() > max) {
      error(node, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return v->get();
  }

  std::optional<std::string> string(const toml::node& node, const std::string& key) {
    const auto* v = node.as_string();
    if (!v) {
      error(node, key, "expected a string");
      return std::nullopt;
    }
    return v->get();
  }

  std::optional<std::string> bind_address(const toml::node& node, const std::string& key) {
    auto v = string(node, key);
    if (!v) return std::nullopt;
    in6_addr buf;
    if (::inet_pton(AF_INET, v->c_str(), &buf) != 1 && ::inet_pton(AF_INET6, v->c_str(), &buf) != 1) {
      error(node, key, "expected an IPv4 or IPv6 address such as \"127.0.0.1\" or \"::1\"");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::chrono::milliseconds> duration(const toml::node& node, const std::string& key) {
    const auto* s = node.as_string();
    const auto d = s ? parse_duration(s->get()) : std::nullopt;
    if (!d) {
      error(node, key, "expected a duration such as \"10s\" or \"250ms\" (units: ms, s, m, h)");
      return std::nullopt;
    }
    if (*d < min_timeout) {
      error(node, key, "must be at least " + format_duration(min_timeout));
      return std::nullopt;
    }
    return d;
  }

  std::optional<std::uint64_t> size(const toml::node& node, const std::string& key) {
    std::optional<std::uint64_t> bytes;
    if (const auto* s = node.as_string()) bytes = parse_size(s->get());
    if (const auto* i = node.as_integer(); i && i->get() >= 0) bytes = static_cast<std::uint64_t>(i->get());
    if (!bytes) error(node, key, "expected a size such as \"1MiB\" or a number of bytes (units: B, KiB, MiB, GiB)");
    return bytes;
  }

  std::optional<std::uint64_t> count(const toml::node& node, const std::string& key) {
    auto v = integer(node, key, 1, std::numeric_limits<std::int64_t>::max());
    if (!v) return std::nullopt;
    return static_cast<std::uint64_t>(*v);
  }

  void load_limits(const toml::node& node, limits_config& limits) {
    const auto* table = node.as_table();
    if (!table) return error(node, "limits", "expected a table ([limits])");
    for (const auto& [key, value] : *table) {
      const std::string name(key.str());
      const std::string path = "limits." + name;
      if (name == "max_connections") {
        if (auto v = count(value, path)) limits.max_connections = *v;
      } else if (name == "max_handshakes") {
        if (auto v = count(value, path)) limits.max_handshakes = *v;
      } else if (name == "handshake_timeout") {
        if (auto v = duration(value, path)) limits.handshake_timeout = *v;
      } else if (name == "idle_timeout") {
        if (auto v = duration(value, path)) limits.idle_timeout = *v;
      } else if (name == "max_message") {
        if (auto v = size(value, path)) {
          if (*v < min_max_message) {
            error(value, path, "must be at least " + format_size(min_max_message));
          } else {
            limits.max_message = *v;
          }
        }
      } else if (name == "mailbox") {
        if (auto v = count(value, path)) limits.mailbox = *v;
      } else if (name == "outbox") {
        if (auto v = size(value, path)) limits.outbox = *v;
      } else if (name == "blocking_workers") {
        if (auto v = integer(value, path, 1, max_blocking_workers)) limits.blocking_workers = static_cast<std::uint64_t>(*v);
      } else {
        unknown(key, "limits.");
      }
    }
  }

  void load_services(const toml::node& node, std::vector<service_config>& services) {
    const auto* arr = node.as_array();
    if (!arr || !arr->is_array_of_tables()) {
      return error(node, "service", "expected [[service]] tables");
    }
    std::set<std::string> names;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const auto& table = *(*arr)[i].as_table();
      const std::string prefix = "service[" + std::to_string(i) + "].";
      if (auto s = load_service(table, prefix)) {
        if (!names.insert(s->name).second) {
          error(s->line, prefix + "name", "service \"" + s->name + "\" is defined twice");
        } else {
          services.push_back(std::move(*s));
        }
      }
    }
  }

  std::optional<service_config> load_service(const toml::table& table, const std::string& prefix) {
    service_config s;
    s.line = line_of(&table);
    const std::size_t errors_before = problems_.size();
    std::optional<std::string> password, verifier_text;
    bool has_pwhash = false;
    for (const auto& [key, value] : table) {
      const std::string name(key.str());
      const std::string path = prefix + name;
      if (name == "name") {
        if (auto v = string(value, path)) s.name = *v;
      } else if (name == "password") {
        password = string(value, path);
      } else if (name == "verifier") {
        if ((verifier_text = string(value, path))) {
          auto v = parse_verifier(*verifier_text);
          if (v) {
            s.secret = *v;
          } else {
            error(value, path, v.error());
          }
        }
      } else if (name == "handler") {
        if (auto v = string(value, path)) s.handler = *v;
      } else if (name == "args") {
        auto t = toml_to_term(value);
        if (t) {
          s.args = std::move(*t);
        } else {
          error(value, path, t.error());
        }
      } else if (name == "argon2id_ops") {
        has_pwhash = true;
        if (auto v = integer(value, path, 1, std::numeric_limits<std::uint32_t>::max())) {
          s.pwhash.ops_limit = static_cast<std::uint64_t>(*v);
        }
      } else if (name == "argon2id_mem") {
        has_pwhash = true;
        if (auto v = size(value, path)) s.pwhash.mem_limit = *v;
      } else {
        unknown(key, prefix);
      }
    }
    std::size_t name_chars = 0;
    if (s.name.empty()) {
      error(s.line, prefix + "name", "missing: every service needs a name");
    } else if (s.name.size() > max_service_name_bytes || !utf8::valid(s.name, &name_chars)) {
      error(s.line, prefix + "name", "must be valid UTF-8 of at most 255 bytes");
    }
    if (s.handler.empty()) error(s.line, prefix + "handler", "missing: name the handler to run, e.g. \"kvs\"");
    if (password && verifier_text) {
      error(s.line, prefix + "password", "give either password or verifier, not both");
    } else if (!password && !verifier_text) {
      error(s.line, prefix + "verifier", "missing: give a verifier (or a plaintext password)");
    } else if (password) {
      s.secret = plaintext_password{*password};
      warnings_.push_back({file_, s.line, prefix + "password",
                           "plaintext password; it is turned into a verifier at load, but store "
                           "the verifier instead so the file holds no secret"});
    } else if (has_pwhash) {
      error(s.line, prefix + "argon2id_ops", "argon2id parameters apply to a plaintext password only; "
                                              "a verifier carries its own");
    }
    if (problems_.size() != errors_before) return std::nullopt;
    return s;
  }

  fs::path path_;
  std::string file_;
  std::vector<config_problem> problems_;
  std::vector<config_problem> warnings_;
};

}  // namespace

std::string config_problem::to_string() const {
  std::string out = file;
  if (line != 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

load_result parse_config(std::string_view text, const std::filesystem::path& path) {
  return loader(path).run(text);
}

load_result load_config(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  const auto bytes = fs::file_size(path, ec);
  if (ec) return std::vector<config_problem>{{file, 0, "", "cannot read: " + ec.message()}};
  if (bytes > max_config_bytes) {
    return std::vector<config_problem>{{file, 0, "", "larger than 4 MiB; is this really the config file?"}};
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) return std::vector<config_problem>{{file, 0, "", "cannot read the file"}};
  return parse_config(buffer.str(), path);
}

std::filesystem::path default_config_path() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "capchan" / "server.toml";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : ".") / ".config" / "capchan" / "server.toml";
}

}  // namespace capchan::config
