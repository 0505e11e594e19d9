// The table and the JSON of a capchan-bench run (report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace capchan::bench {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.6g}", v);
}

std::string goal_text(const goal& g) {
  return fmt::format("{} {:.2f}x, goal {} {:.2f}x", g.text, g.ratio, g.at_most ? "<=" : ">=", g.bound);
}

}  // namespace

std::string range_text(const std::vector<double>& values, int decimals) {
  if (values.empty()) return {};
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  return fmt::format("{:.{}f}-{:.{}f}", *lo, decimals, *hi, decimals);
}

void print_table(const run_report& r) {
  std::printf("\ncapchan-bench %s%s: client and servers as separate processes on 127.0.0.1, %u cores\n",
              r.date.c_str(), r.quick ? " (--quick: tiny counts, figures are not meaningful)" : "", r.cores);
  std::printf("Absolute numbers drift run to run on a shared machine: read the ratios (DESIGN.md section 9).\n");
  for (const auto& s : r.scenarios) {
    std::printf("\n(%s) %s\n", s.id.c_str(), s.title.c_str());
    if (!s.skipped.empty()) {
      std::printf("  skipped: %s\n", s.skipped.c_str());
      continue;
    }
    for (const auto& f : s.figures) {
      std::printf("  %-52s %12.1f %-8s %s\n", f.name.c_str(), f.value, f.unit.c_str(), f.note.c_str());
    }
  }
  std::printf("\nGoals (ratios measured in this run)\n");
  int met = 0, total = 0;
  for (const auto& s : r.scenarios) {
    for (const auto& g : s.goals) {
      ++total;
      met += g.met() ? 1 : 0;
      std::printf("  (%s) %-62s %s\n", s.id.c_str(), goal_text(g).c_str(), g.met() ? "met" : "SHORT");
      if (!g.met() && !g.short_because.empty()) std::printf("        %s\n", g.short_because.c_str());
    }
  }
  std::printf("  %d of %d goals met; %.0f s in all\n", met, total, r.seconds);
  for (const auto& f : r.files) std::printf("  wrote %s\n", f.c_str());
}

void write_json(const run_report& r, const std::filesystem::path& file) {
  std::string out = "{\n";
  out += fmt::format("  \"date\": {},\n  \"started_at\": {},\n  \"quick\": {},\n  \"cores\": {},\n  \"seconds\": {},\n",
                     json_string(r.date), json_string(r.started_at), r.quick ? "true" : "false", r.cores,
                     json_number(r.seconds));
  out += "  \"scenarios\": [";
  for (std::size_t i = 0; i < r.scenarios.size(); ++i) {
    const auto& s = r.scenarios[i];
    out += i ? ",\n" : "\n";
    out += fmt::format("    {{\n      \"id\": {},\n      \"title\": {},\n", json_string(s.id), json_string(s.title));
    if (!s.skipped.empty()) out += fmt::format("      \"skipped\": {},\n", json_string(s.skipped));
    out += "      \"figures\": [";
    for (std::size_t k = 0; k < s.figures.size(); ++k) {
      const auto& f = s.figures[k];
      out += k ? ",\n" : "\n";
      out += fmt::format("        {{\"name\": {}, \"value\": {}, \"unit\": {}", json_string(f.name),
                         json_number(f.value), json_string(f.unit));
      if (!f.note.empty()) out += fmt::format(", \"note\": {}", json_string(f.note));
      out += "}";
    }
    out += s.figures.empty() ? "],\n" : "\n      ],\n";
    out += "      \"goals\": [";
    for (std::size_t k = 0; k < s.goals.size(); ++k) {
      const auto& g = s.goals[k];
      out += k ? ",\n" : "\n";
      out += fmt::format("        {{\"goal\": {}, \"ratio\": {}, \"bound\": {}, \"at_most\": {}, \"met\": {}",
                         json_string(g.text), json_number(g.ratio), json_number(g.bound),
                         g.at_most ? "true" : "false", g.met() ? "true" : "false");
      if (!g.short_because.empty()) out += fmt::format(", \"short_because\": {}", json_string(g.short_because));
      out += "}";
    }
    out += s.goals.empty() ? "]\n    }" : "\n      ]\n    }";
  }
  out += "\n  ],\n  \"files\": [";
  for (std::size_t i = 0; i < r.files.size(); ++i) out += (i ? ", " : "") + json_string(r.files[i]);
  out += "]\n}\n";
  std::filesystem::create_directories(file.parent_path());
  std::ofstream f(file, std::ios::trunc);
  f << out;
  if (!f) throw std::runtime_error("cannot write " + file.string());
}

}  // namespace capchan::bench
