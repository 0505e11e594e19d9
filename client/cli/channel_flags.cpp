// See channel_flags.hpp. Errors go to stderr as one "capchan: ..." message
// that says what happened and what to do; DESIGN.md §6 fixes the exit codes.
#include "channel_flags.hpp"

#include <sodium.h>

#include <iostream>

#include "capchan/client/url.hpp"
#include "capchan/config/units.hpp"
#include "capchan/core/text.hpp"
#include "exit_codes.hpp"
#include "json.hpp"
#include "password.hpp"

namespace capchan::cli {
namespace {

constexpr std::string_view url_scheme = "capchan://";

int usage_error(const problem& p) {
  std::cerr << "capchan: " << p.message << "\n";
  return exit_usage;
}

bool is_handler_error(const term& reason) {
  const term* tag = reason.element(0);
  return tag && tag->is_atom("handler_error");
}

// The server and the key to expect, from the flags or from a capchan:// URL.
checked<client::channel_url> target(const channel_flags& flags, const std::string& service) {
  if (!service.starts_with(url_scheme)) {
    client::channel_url url;
    url.host = flags.host;
    url.port = flags.port;
    url.service = service;
    url.key = flags.key;
    return url;
  }
  auto url = client::parse_url(service);
  if (!url) return problem{url.error().message()};
  const auto given = [](const std::vector<CLI::Option*>& options) {
    for (const auto* o : options) {
      if (o->count() > 0) return true;
    }
    return false;
  };
  if (given(flags.host_options) || given(flags.port_options)) {
    return problem{
        "the URL already names the server: drop --host and --port, or give "
        "a service name instead of the URL"};
  }
  if (!flags.key.empty() && !url->key.empty() && flags.key != url->key) {
    return problem{"--key " + flags.key + " and the URL's key=" + url->key +
                   " differ: give the server's key once"};
  }
  if (url->key.empty()) url->key = flags.key;
  return *url;
}

}  // namespace

void add_channel_flags(CLI::App& app, channel_flags& flags) {
  auto* group = app.add_option_group("Channel", "Where the service is, and how to trust it");
  flags.host_options.push_back(
      group->add_option("--host", flags.host, "Server host name or address")
          ->type_name("HOST")
          ->capture_default_str());
  flags.port_options.push_back(group->add_option("--port", flags.port, "Server port")
                                   ->type_name("PORT")
                                   ->capture_default_str());
  group
      ->add_option("--key", flags.key,
                   "The server's key fingerprint SHA256:... (`capchan-server` prints it); when "
                   "given it must match, and known_hosts is not used")
      ->type_name("FINGERPRINT");
  group
      ->add_option("--known-hosts", flags.known_hosts,
                   "known_hosts file: server keys recorded on first use, checked after "
                   "[default: $XDG_CONFIG_HOME/capchan/known_hosts]")
      ->type_name("FILE");
  group
      ->add_option("--password-file", flags.password_file,
                   "Read the password from the first line of FILE (else CAPCHAN_PASSWORD, "
                   "else a prompt when stdin is a terminal)")
      ->type_name("FILE");
  group
      ->add_option("--args", flags.args,
                   "ArgsC, the term the service's handler gets at connect [default: []]")
      ->type_name("TERM");
  group
      ->add_option("--timeout", flags.timeout,
                   "Limit for connecting and logging in, and for each rpc: 500ms, 10s, 2m")
      ->type_name("DURATION")
      ->capture_default_str();
  group->add_flag("--json", flags.json, "Print terms as JSON (mapping in docs/cli.md)");
}

std::optional<term> parse_term_argument(const std::string& text, std::string_view what) {
  auto parsed = text::parse(text);
  if (!parsed) {
    std::cerr << "capchan: " << what << ": " << parsed.error().to_string()
              << " (write the term in Erlang syntax, e.g. '{lookup, joe}')\n";
    return std::nullopt;
  }
  return std::move(*parsed);
}

checked<std::string> format_term(const term& t, bool json) {
  if (json) return to_json(t);
  return {boost::system::in_place_value, text::print(t)};
}

int exit_code_for_close(const term& reason) {
  if (reason.is_atom("normal")) return exit_ok;
  if (reason.is_atom("auth_failed")) return exit_auth;
  if (is_handler_error(reason)) return exit_remote;
  return exit_connection;
}

int exit_code_for(const client::error& e) {
  using client::errc;
  switch (static_cast<errc>(e.code.value())) {
    case errc::remote_error:
      return exit_remote;
    case errc::closed:
      return exit_code_for_close(e.reason) == exit_remote ? exit_remote : exit_connection;
    case errc::auth_failed:
      return exit_auth;
    case errc::bad_url:
    case errc::message_too_large:
      return exit_usage;
    case errc::connection_refused:
    case errc::server_key_mismatch:
    case errc::known_hosts_error:
    case errc::timeout:
    case errc::protocol_error:
      return exit_connection;
  }
  return exit_connection;
}

std::string describe(const client::error& e) {
  using client::errc;
  switch (static_cast<errc>(e.code.value())) {
    case errc::auth_failed:
      // The same words for a wrong password and an unknown service: the
      // server does not tell them apart, and neither may we.
      return "unknown service or wrong password: check the service name and the password "
             "(CAPCHAN_PASSWORD, --password-file or the prompt)";
    case errc::remote_error:
      return "the service failed the call: " + text::print(e.reason);
    case errc::timeout:
      return e.message() + " (--timeout sets the limit)";
    default:
      return e.message();
  }
}

int with_channel(const channel_flags& flags, const std::string& service,
                 const std::function<int(client::sync::channel&, const channel_session&)>& body) {
  auto url = target(flags, service);
  if (!url) return usage_error(url.error());
  const auto timeout = config::parse_duration(flags.timeout);
  if (!timeout || timeout->count() <= 0) {
    return usage_error(
        problem{"--timeout '" + flags.timeout + "': expected a duration such as 500ms, 10s or 2m"});
  }
  term args_c;
  if (!flags.args.empty()) {
    auto parsed = parse_term_argument(flags.args, "--args");
    if (!parsed) return exit_usage;
    args_c = std::move(*parsed);
  }

  channel_session session{url->service, url->host_port(), *timeout};
  password_request request;
  request.password_file = flags.password_file;
  request.prompt = "Password for " + session.service + " at " + session.where + ": ";
  auto password = read_password(request);
  if (!password) return usage_error(password.error());

  client::connect_options options;
  options.key = url->key;
  options.known_hosts = flags.known_hosts;
  options.handshake_timeout = *timeout;
  // The library wipes its copy; this wipes ours.
  auto channel = client::sync::connect(*url, *password, std::move(args_c), options);
  sodium_memzero(password->data(), password->size());
  if (!channel) {
    std::cerr << "capchan: " << describe(channel.error()) << "\n";
    return exit_code_for(channel.error());
  }
  const int code = body(*channel, session);
  channel->close();
  return code;
}

}  // namespace capchan::cli
