// The `capchan config` subcommands. Edits hold the config's lock from read
// to rename, so two editors queue instead of losing each other's changes;
// the argon2id work for a new verifier happens before the lock is taken.
#include "config_commands.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

#include <sodium.h>

#include "capchan/config/config_check.hpp"
#include "capchan/config/config_edit.hpp"
#include "capchan/config/config_file.hpp"
#include "capchan/config/server_config.hpp"
#include "capchan/config/units.hpp"
#include "capchan/config/verifier.hpp"
#include "capchan/core/crypto/key_file.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/services/services.hpp"
#include "config_reload.hpp"
#include "exit_codes.hpp"
#include "password.hpp"

namespace capchan::cli {
namespace {

namespace fs = std::filesystem;

struct config_state {
  std::string path = config::default_config_path().string();
  std::string name;
  std::string handler;
  std::string args;
  std::string password_file;
  std::uint64_t ops = crypto::argon2id_interactive.ops_limit;
  std::string mem = config::format_size(crypto::argon2id_interactive.mem_limit);
  std::string reload_limit = "60s";
};

int fail(const std::string& message, int code = exit_usage) {
  std::cerr << "capchan: " << message << "\n";
  return code;
}

std::vector<std::string> known_handlers() {
  server::service_registry registry;
  services::register_builtin(registry);
  return registry.names();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The password twice at a prompt (a typo would lock everyone out), or once
// from --password-file. Never from CAPCHAN_PASSWORD.
checked<std::string> new_password(const config_state& s) {
  password_request request{s.password_file, "New password for service " + s.name + ": ", false};
  auto first = read_password(request);
  if (!first || !s.password_file.empty()) return first;
  request.prompt = "Again, to be sure: ";
  auto second = read_password(request);
  if (!second) return second;
  if (*first != *second) return problem{"the two passwords differ; nothing was changed"};
  return first;
}

std::string verifier_text(const crypto::password_verifier& v) {
  config::verifier out;
  out.salt = v.salt;
  out.ops_limit = v.params.ops_limit;
  out.mem_limit = v.params.mem_limit;
  out.stored_key = v.stored_key;
  out.server_key = v.server_key;
  return config::format_verifier(out);
}

// The new password (new_password), turned into a verifier and forgotten.
checked<std::string> new_verifier(const config_state& s) {
  const auto mem = config::parse_size(s.mem);
  if (!mem) return problem{"--argon2id-mem: expected a size such as \"64MiB\""};
  const crypto::argon2id_params params{s.ops, *mem};
  if (auto ec = crypto::check_argon2id_params(params)) return problem{"--argon2id-ops/--argon2id-mem: " + ec.message()};
  auto password = new_password(s);
  if (!password) return password;
  auto v = crypto::make_verifier(*password, crypto::random_salt(), params);
  sodium_memzero(password->data(), password->size());
  if (!v) return problem{"cannot derive a verifier: " + v.error().message()};
  return {boost::system::in_place_value, verifier_text(*v)};
}

checked<bool> config_exists(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return problem{"no config at '" + path.string() + "': create one with `capchan config init`, or give --config FILE"};
  }
  return true;
}

// Read, edit, check, replace: all under the config's lock.
int edit_config(const fs::path& path, const std::function<config::edit_result(config::config_text&)>& edit) {
  if (auto there = config_exists(path); !there) return fail(there.error().message);
  try {
    config::config_lock lock(path);
    auto before = config::read_config_file(path);
    if (!before) return fail(before.error());
    auto doc = config::config_text::parse(before->text, path);
    if (!doc) return fail(doc.error());
    if (auto r = edit(*doc); !r) return fail(r.error());
    // An edit must not break a file that loaded; a broken file may be mended.
    if (config::parse_config(before->text, path)) {
      if (auto after = config::parse_config(doc->text(), path); !after) {
        for (const auto& p : after.error()) std::cerr << p.to_string() << "\n";
        return fail("the edited file would not load; nothing was written");
      }
    }
    if (auto r = config::replace_config_file(path, *before, doc->text()); !r) return fail(r.error());
  } catch (const std::runtime_error& e) {
    return fail(e.what());
  }
  return exit_ok;
}

// The file's text, for commands that only look.
checked<config::config_text> read_text(const std::string& path) {
  if (auto there = config_exists(path); !there) return there.error();
  auto file = config::read_config_file(path);
  if (!file) return problem{file.error()};
  auto doc = config::config_text::parse(file->text, path);
  if (!doc) return problem{doc.error()};
  return std::move(*doc);
}

int add_command(const config_state& s) {
  if (auto there = config_exists(s.path); !there) return fail(there.error().message);  // before the prompt
  const auto handlers = known_handlers();
  if (std::find(handlers.begin(), handlers.end(), s.handler) == handlers.end()) {
    return fail("--handler: the server knows no handler \"" + s.handler + "\" (known: " + joined(handlers) + ")");
  }
  if (!s.args.empty()) {
    if (auto r = config::check_args_toml(s.args); !r) return fail("--args: " + r.error());
  }
  auto verifier = new_verifier(s);
  if (!verifier) return fail(verifier.error().message);
  const int code = edit_config(s.path, [&](config::config_text& doc) {
    return doc.add_service({s.name, s.handler, *verifier, s.args});
  });
  if (code == exit_ok) std::cout << "added service " << s.name << " (handler " << s.handler << ") to " << s.path << "\n";
  return code;
}

int passwd_command(const config_state& s) {
  {
    // Say "no such service" before asking for a password.
    auto doc = read_text(s.path);
    if (!doc) return fail(doc.error().message);
    if (!doc->has_service(s.name)) return fail("no service named \"" + s.name + "\" in " + s.path);
  }
  auto verifier = new_verifier(s);
  if (!verifier) return fail(verifier.error().message);
  const int code =
      edit_config(s.path, [&](config::config_text& doc) { return doc.set_verifier(s.name, *verifier); });
  if (code == exit_ok) {
    std::cout << "changed the password of service " << s.name
              << " (a running server applies it to new logins after `capchan config reload`)\n";
  }
  return code;
}

int remove_command(const config_state& s) {
  const int code = edit_config(s.path, [&](config::config_text& doc) { return doc.remove_service(s.name); });
  if (code == exit_ok) std::cout << "removed service " << s.name << " from " << s.path << "\n";
  return code;
}

int list_command(const config_state& s) {
  auto doc = read_text(s.path);
  if (!doc) return fail(doc.error().message);
  const auto services = doc->services();
  std::size_t name_width = 4, handler_width = 7;
  for (const auto& sv : services) {
    name_width = std::max(name_width, sv.name.size());
    handler_width = std::max(handler_width, sv.handler.size());
  }
  std::printf("%-*s  %-*s  %s\n", static_cast<int>(name_width), "NAME", static_cast<int>(handler_width), "HANDLER",
              "SECRET");
  for (const auto& sv : services) {
    std::printf("%-*s  %-*s  %s\n", static_cast<int>(name_width), sv.name.c_str(), static_cast<int>(handler_width),
                sv.handler.c_str(), sv.secret_kind.c_str());
  }
  return exit_ok;
}

// 0: clean; 1: warnings only; 2: errors (the server would not start).
int check_command(const config_state& s) {
  const auto report = config::check_config(s.path, known_handlers());
  for (const auto& p : report.errors) std::cout << p.to_string() << "\n";
  for (const auto& w : report.warnings) {
    config::config_problem shown = w;
    shown.message = "warning: " + w.message;
    std::cout << shown.to_string() << "\n";
  }
  if (!report.errors.empty()) {
    std::cout << report.errors.size() << " error(s), " << report.warnings.size() << " warning(s)\n";
    return exit_usage;
  }
  if (!report.warnings.empty()) {
    std::cout << report.warnings.size() << " warning(s); the server would start\n";
    return exit_remote;
  }
  std::cout << s.path << ": ok\n";
  return exit_ok;
}

checked<config::server_config> loaded(const config_state& s) {
  auto cfg = config::load_config(s.path);
  if (!cfg) {
    for (const auto& p : cfg.error()) std::cerr << p.to_string() << "\n";
    return problem{"the config has errors (run `capchan config check`)"};
  }
  return std::move(*cfg);
}

int fingerprint_command(const config_state& s) {
  auto cfg = loaded(s);
  if (!cfg) return fail(cfg.error().message);
  auto key = crypto::load_key_file(cfg->key_file);
  if (!key) return fail(key.error() + " (capchan-server or `capchan config init` creates it)");
  std::cout << crypto::noise::fingerprint(key->public_key()) << "\n";
  return exit_ok;
}

int reload_command(const config_state& s) {
  auto cfg = loaded(s);
  if (!cfg) return fail(cfg.error().message + "; not sent: the server would keep its running config");
  const auto limit = config::parse_duration(s.reload_limit);
  if (!limit) return fail("--wait: expected a duration such as \"60s\"");
  return reload_server(*cfg, *limit);
}

// A verifier for a password nobody knows: the example service is locked
// until `capchan config passwd` gives it one.
std::string unknown_password_verifier() {
  std::array<std::uint8_t, 32> secret{};
  randombytes_buf(secret.data(), secret.size());
  const std::string password(reinterpret_cast<const char*>(secret.data()), secret.size());
  sodium_memzero(secret.data(), secret.size());
  auto v = crypto::make_verifier(password, crypto::random_salt(), crypto::argon2id_interactive);
  if (!v) throw std::runtime_error("cannot derive a verifier: " + v.error().message());
  return verifier_text(*v);
}

std::string starter_config(const std::string& verifier) {
  return R"(# capchan server config (docs/config.md). Edit it with `capchan config
# add|passwd|remove` (they keep your comments) or by hand, then run
# `capchan config check`; `capchan config reload` applies it to a running server.

port = 1234
# Loopback only. "0.0.0.0" (or an address) serves other machines: an explicit choice.
bind = "127.0.0.1"
key_file = "server.key"   # the server's secret key (mode 0600), relative to this file
data_dir = "data"         # where services keep their files

# The defaults, written out to be easy to find; all are optional.
[limits]
max_connections = 10000
max_handshakes = 256      # connections that have not logged in yet
handshake_timeout = "10s"
idle_timeout = "60s"
max_message = "1MiB"
mailbox = 1024            # messages waiting for one channel's handler
outbox = "8MiB"           # unsent bytes per connection

# An example service, locked: nobody knows its password. Give it one with
#   capchan config passwd echo
# or drop it with `capchan config remove echo`.
[[service]]
name = "echo"
handler = "echo"
verifier = )" + config::toml_quote(verifier) +
         "\n";
}

int init_command(const config_state& s) {
  const fs::path path = s.path;
  std::error_code ec;
  if (fs::exists(path, ec)) return fail("'" + s.path + "' exists already; nothing was overwritten");
  if (path.has_parent_path() && !fs::exists(path.parent_path(), ec)) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) return fail("cannot create the folder '" + path.parent_path().string() + "': " + ec.message());
    fs::permissions(path.parent_path(), fs::perms::owner_all, ec);
  }
  std::string text;
  try {
    text = starter_config(unknown_password_verifier());
  } catch (const std::runtime_error& e) {
    return fail(e.what());
  }
  const fs::path key_path = (path.has_parent_path() ? path.parent_path() : fs::path(".")) / "server.key";
  if (auto r = config::create_new_file(path, text, 0600); !r) return fail(r.error());
  std::cout << "wrote " << s.path << "\n";
  bool created = false;
  auto key = crypto::load_or_create_key_file(key_path, created);
  if (!key) return fail(key.error());
  std::cout << (created ? "wrote " : "kept the existing key ") << key_path.string() << " (mode 0600): fingerprint "
            << crypto::noise::fingerprint(key->public_key()) << "\n"
            << "next: capchan config add NAME --handler kvs, then capchan-server --config " << s.path << "\n";
  return exit_ok;
}

void password_flags(CLI::App& cmd, config_state& s) {
  cmd.add_option("--password-file", s.password_file, "Read the password from the first line of FILE")
      ->check(CLI::ExistingFile);
  cmd.add_option("--argon2id-ops", s.ops, "argon2id passes for the verifier")->capture_default_str();
  cmd.add_option("--argon2id-mem", s.mem, "argon2id memory for the verifier")->capture_default_str();
}

}  // namespace

void add_config_commands(CLI::App& app, int& exit_code) {
  auto state = std::make_shared<config_state>();
  auto* config = app.add_subcommand("config", "Edit a server config safely; reload a running server");
  config->require_subcommand(1);
  config->footer(
      "A server of your own (docs/config.md):\n"
      "  capchan config init                       # starter config and key\n"
      "  capchan config add names --handler kvs    # asks for the password twice\n"
      "  capchan-server &                          # then, after edits:\n"
      "  capchan config reload");
  config->fallthrough();
  config->add_option("-c,--config", state->path, "The server config (TOML)")->capture_default_str();
  auto run = [&exit_code, state](int (*command)(const config_state&)) {
    return [&exit_code, state, command] { exit_code = command(*state); };
  };

  config->add_subcommand("init", "Write a commented starter config and the server key (never overwrites)")
      ->callback(run(init_command));

  auto* add = config->add_subcommand("add", "Add a service; asks for its password twice, stores a verifier");
  add->add_option("name", state->name, "Service name")->required();
  add->add_option("--handler", state->handler, "Handler to run: " + joined(known_handlers()))->required();
  add->add_option("--args", state->args, "ArgsS as a TOML value, e.g. '{ path = \"names.db\" }'");
  password_flags(*add, *state);
  add->callback(run(add_command));

  auto* passwd = config->add_subcommand("passwd", "Change a service's password (stores a verifier)");
  passwd->add_option("name", state->name, "Service name")->required();
  password_flags(*passwd, *state);
  passwd->callback(run(passwd_command));

  auto* remove = config->add_subcommand("remove", "Remove a service");
  remove->add_option("name", state->name, "Service name")->required();
  remove->callback(run(remove_command));

  config->add_subcommand("list", "List services: name, handler, verifier or plaintext (never a secret)")
      ->callback(run(list_command));
  config->add_subcommand("check", "Validate; exit 0 clean, 1 warnings, 2 errors")->callback(run(check_command));
  config->add_subcommand("fingerprint", "Print the server key's fingerprint, as the server's listening line does")
      ->callback(run(fingerprint_command));
  auto* reload = config->add_subcommand("reload", "Make the running capchan-server reload the config (SIGHUP)");
  reload->add_option("--wait", state->reload_limit, "How long to wait for the server's answer")->capture_default_str();
  reload->callback(run(reload_command));
}

}  // namespace capchan::cli
