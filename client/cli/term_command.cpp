// `capchan term encode '<term>'` prints the ETF bytes of an Erlang term as
// lower-case hex; `capchan term decode <hex>` prints the term in Erlang syntax.
// `-` reads the argument from standard input. Bad input goes to stderr with
// exit code 2, and says where it is wrong.
#include "term_command.hpp"

#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "capchan/core/etf.hpp"
#include "capchan/core/hex.hpp"
#include "capchan/core/text.hpp"
#include "exit_codes.hpp"

namespace capchan::cli {
namespace {

std::string argument_or_stdin(const std::string& arg) {
  if (arg != "-") return arg;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

int encode_command(const std::string& arg) {
  const auto parsed = text::parse(argument_or_stdin(arg));
  if (!parsed) {
    std::cerr << "capchan term encode: " << parsed.error().to_string() << "\n";
    return exit_usage;
  }
  std::cout << hex::encode(etf::encode(*parsed)) << "\n";
  return exit_ok;
}

int decode_command(const std::string& arg) {
  const auto bytes = hex::decode(argument_or_stdin(arg));
  if (!bytes) {
    std::cerr << "capchan term decode: not hexadecimal (expected pairs of 0-9a-f)\n";
    return exit_usage;
  }
  const auto decoded = etf::decode(*bytes);
  if (!decoded) {
    std::cerr << "capchan term decode: " << decoded.error().to_string() << "\n";
    return exit_usage;
  }
  std::cout << text::print(*decoded) << "\n";
  return exit_ok;
}

}  // namespace

void add_term_command(CLI::App& app, int& exit_code) {
  auto* term_cmd = app.add_subcommand("term", "Convert Erlang terms between text and ETF bytes");
  term_cmd->require_subcommand(1);

  auto input = std::make_shared<std::string>();
  auto* encode = term_cmd->add_subcommand(
      "encode", "Print the ETF bytes (term_to_binary, minor_version 2) of TERM as hex");
  encode->add_option("TERM", *input, "Erlang term, e.g. '{lookup, joe}' (- reads stdin)")->required();
  encode->callback([input, &exit_code] { exit_code = encode_command(*input); });

  auto* decode = term_cmd->add_subcommand("decode", "Print the term whose ETF bytes HEX are");
  decode->add_option("HEX", *input, "ETF bytes as hex, e.g. 83680277066c6f6f6b7570 (- reads stdin)")
      ->required();
  decode->callback([input, &exit_code] { exit_code = decode_command(*input); });
}

}  // namespace capchan::cli
