// The "capchan.client" error category (DESIGN.md §5): one sentence per code
// that a person can act on; client::error adds the specifics.
#include "capchan/client/error.hpp"

#include <ostream>
#include <stdexcept>

#include "capchan/core/text.hpp"

namespace capchan::client {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "capchan.client"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::connection_refused:
        return "could not connect to the capchan server";
      case errc::server_key_mismatch:
        return "server key mismatch";
      case errc::auth_failed:
        return "authentication failed: unknown service or wrong password";
      case errc::timeout:
        return "timed out";
      case errc::closed:
        return "the channel is closed";
      case errc::protocol_error:
        return "protocol error: the server broke capchan's wire protocol";
      case errc::remote_error:
        return "the service failed the call";
      case errc::bad_url:
        return "malformed capchan:// URL";
      case errc::known_hosts_error:
        return "cannot use the known_hosts file";
      case errc::message_too_large:
        return "message larger than max_message";
    }
    return "unknown capchan client error";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const category instance;
  return instance;
}

namespace {

// The detail, then the server's term (remote_error and closed carry one)
// unless the detail already shows it.
std::string specifics(const error& e) {
  std::string out = e.detail;
  if (!e.reason.is_nil()) {
    std::string reason = text::print(e.reason);
    if (out.find(reason) == std::string::npos) out += (out.empty() ? "" : " ") + reason;
  }
  return out;
}

}  // namespace

std::string error::message() const {
  std::string s = specifics(*this);
  return s.empty() ? code.message() : code.message() + ": " + s;
}

std::ostream& operator<<(std::ostream& os, const error& e) { return os << e.message(); }

void throw_exception_from_error(const error& e, const boost::source_location&) {
  // system_error's what() is "<specifics>: <code message>".
  throw std::system_error(e.code, specifics(e));
}

}  // namespace capchan::client
