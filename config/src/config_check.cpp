// The checks of `capchan config check` beyond the loader's (config_check.hpp).
// They walk the TOML tree itself, not the loaded model, so that a file with
// errors still gets its warnings, each with the line of the key at fault.
#include "capchan/config/config_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include <toml++/toml.h>

#include "capchan/config/config_file.hpp"
#include "capchan/config/units.hpp"
#include "capchan/config/verifier.hpp"
#include "capchan/core/crypto/key_file.hpp"
#include "capchan/core/crypto/password_proof.hpp"

namespace capchan::config {
namespace {

namespace fs = std::filesystem;

constexpr auto strong = crypto::argon2id_interactive;

bool loopback(const std::string& address) {
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  return true;  // not an address at all: the loader reports that
}

class checker {
 public:
  checker(const fs::path& path, const std::vector<std::string>& handlers)
      : path_(path), file_(path.string()), handlers_(handlers) {}

  void run(const toml::table& root, check_report& report) {
    report_ = &report;
    if (const auto* bind = root["bind"].as_string(); bind && !loopback(bind->get())) {
      warn(*bind, "bind",
           "listens on \"" + bind->get() + "\", not only on loopback: anyone who can reach the port can try "
           "passwords; make sure that is meant, with strong verifiers");
    }
    check_key_file(root);
    if (const auto* services = root["service"].as_array()) {
      for (std::size_t i = 0; i < services->size(); ++i) {
        if (const auto* t = (*services)[i].as_table()) check_service(*t, "service[" + std::to_string(i) + "].");
      }
    }
  }

 private:
  void warn(const toml::node& node, std::string key, std::string message) {
    report_->warnings.push_back({file_, node.source().begin.line, std::move(key), std::move(message)});
  }

  void check_key_file(const toml::table& root) {
    const auto* node = root["key_file"].node();
    const auto* text = root["key_file"].as_string();
    if (node && !text) return;  // not a string: the loader says so
    const fs::path given = text ? fs::path(text->get()) : fs::path("server.key");
    const fs::path key = given.is_absolute() ? given : (path_.parent_path() / given).lexically_normal();
    const std::size_t line = node ? node->source().begin.line : 0;
    std::error_code ec;
    if (!fs::exists(key, ec)) return;  // capchan-server creates it on first start
    if (auto loaded = crypto::load_key_file(key); !loaded) {
      report_->warnings.push_back({file_, line, "key_file", "cannot be used: " + loaded.error()});
    } else if (crypto::readable_by_others(key)) {
      report_->warnings.push_back({file_, line, "key_file",
                                   "'" + key.string() + "' may be read by group or others: run chmod 600 on it "
                                   "(whoever reads it can pose as this server)"});
    }
  }

  void weak(const toml::node& node, const std::string& key, std::uint64_t ops, std::uint64_t mem) {
    if (ops >= strong.ops_limit && mem >= strong.mem_limit) return;
    warn(node, key,
         "weak argon2id parameters (t=" + std::to_string(ops) + ", m=" + format_size(mem) +
             "): a leaked config is cheaper to attack; use at least t=" + std::to_string(strong.ops_limit) +
             ", m=" + format_size(strong.mem_limit) + " (`capchan config passwd` writes those)");
  }

  void check_service(const toml::table& t, const std::string& prefix) {
    if (const auto* handler = t["handler"].as_string();
        handler && std::find(handlers_.begin(), handlers_.end(), handler->get()) == handlers_.end()) {
      std::string known;
      for (const auto& n : handlers_) known += (known.empty() ? "" : ", ") + n;
      warn(*handler, prefix + "handler", "the server knows no handler \"" + handler->get() + "\" (known: " + known + ")");
    }
    if (const auto* password = t["password"].node()) {
      warn(*password, prefix + "password",
           "plaintext password: anyone who reads this file can log in; replace it with a verifier "
           "(`capchan config passwd NAME`)");
      const auto* ops = t["argon2id_ops"].as_integer();
      const auto* mem_node = t["argon2id_mem"].node();
      std::optional<std::uint64_t> mem;
      if (mem_node) {
        if (const auto* s = mem_node->as_string()) mem = parse_size(s->get());
        if (const auto* i = mem_node->as_integer(); i && i->get() >= 0) mem = static_cast<std::uint64_t>(i->get());
      }
      if ((ops && ops->get() >= 0) || mem) {
        weak(ops ? static_cast<const toml::node&>(*ops) : *mem_node, prefix + (ops ? "argon2id_ops" : "argon2id_mem"),
             ops && ops->get() >= 0 ? static_cast<std::uint64_t>(ops->get()) : pwhash_params{}.ops_limit,
             mem.value_or(pwhash_params{}.mem_limit));
      }
    }
    if (const auto* text = t["verifier"].as_string()) {
      if (auto v = parse_verifier(text->get())) weak(*text, prefix + "verifier", v->ops_limit, v->mem_limit);
    }
  }

  fs::path path_;
  std::string file_;
  const std::vector<std::string>& handlers_;
  check_report* report_ = nullptr;
};

}  // namespace

check_report check_config(const fs::path& path, const std::vector<std::string>& known_handlers) {
  check_report report;
  auto snapshot = read_config_file(path);
  if (!snapshot) {
    report.errors.push_back({path.string(), 0, "", snapshot.error()});
    return report;
  }
  auto loaded = parse_config(snapshot->text, path);
  if (!loaded) report.errors = loaded.error();
  toml::table root;
  try {
    root = toml::parse(snapshot->text, path.string());
  } catch (const toml::parse_error&) {
    return report;  // the loader has reported it
  }
  checker(path, known_handlers).run(root, report);
  // The loader's own warnings, unless a check above said the same of that key.
  if (loaded) {
    for (const auto& w : loaded->warnings) {
      const bool said = std::any_of(report.warnings.begin(), report.warnings.end(),
                                    [&](const config_problem& p) { return p.key == w.key; });
      if (!said) report.warnings.push_back(w);
    }
  }
  const auto by_line = [](const config_problem& a, const config_problem& b) { return a.line < b.line; };
  std::stable_sort(report.errors.begin(), report.errors.end(), by_line);
  std::stable_sort(report.warnings.begin(), report.warnings.end(), by_line);
  return report;
}

}  // namespace capchan::config
