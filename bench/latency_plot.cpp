// Latency CDFs drawn into a PNG (latency_plot.hpp), on a log latency axis
// that ends at the decade above the largest p99.9, so that one stall does
// not squash the plot; the legend gives each series' p50 and p99.
#include "latency_plot.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "png_writer.hpp"

namespace capchan::bench {
namespace {

constexpr int width = 900, height = 560;
constexpr int left = 70, right = 30, top = 50, bottom = 60;
constexpr rgb white{255, 255, 255}, black{0, 0, 0}, grid{225, 225, 225};
constexpr std::array<rgb, 4> colours{rgb{214, 39, 40}, rgb{31, 119, 180}, rgb{44, 160, 44}, rgb{148, 103, 189}};

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(q * static_cast<double>(sorted.size())))];
}

}  // namespace

bool write_latency_plot(const std::filesystem::path& file, const std::string& title,
                        std::vector<latency_series_data> series) {
  image img(width, height, white);
  const int x0 = left, x1 = width - right, y0 = height - bottom, y1 = top;
  // A log x axis from the decade below the fastest round trip to the decade
  // above the slowest p99.9: the body and the tail both stay visible.
  double fastest = 1e300, slowest = 0;
  for (auto& s : series) {
    std::sort(s.us.begin(), s.us.end());
    if (s.us.empty()) continue;
    fastest = std::min(fastest, std::max(s.us.front(), 0.1));
    slowest = std::max(slowest, quantile(s.us, 0.999));
  }
  if (slowest <= 0) fastest = 1, slowest = 10;
  const double lo = std::floor(std::log10(fastest)), hi = std::max(lo + 1, std::ceil(std::log10(slowest)));
  const auto px = [&](double us) {
    const double v = std::clamp(std::log10(std::max(us, 1e-3)), lo, hi);
    return x0 + static_cast<int>(std::lround((x1 - x0) * (v - lo) / (hi - lo)));
  };
  const auto py = [&](double fraction) { return y0 - static_cast<int>(std::lround((y0 - y1) * fraction)); };

  // Grid, axes, ticks (1, 2 and 5 in each decade).
  for (double decade = lo; decade < hi + 0.5; ++decade) {
    for (const double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, decade);
      if (std::log10(v) > hi + 1e-9) break;
      const int x = px(v);
      img.line(x, y0, x, y1, grid);
      const std::string label = fmt::format("{:g}", v);
      img.text(x - image::text_width(label) / 2, y0 + 8, label, black);
    }
  }
  for (int k = 0; k <= 10; ++k) {
    const double f = k / 10.0;
    const int y = py(f);
    img.line(x0, y, x1, y, grid);
    const std::string label = fmt::format("{:.1f}", f);
    img.text(x0 - 8 - image::text_width(label), y - 3, label, black);
  }
  img.line(x0, y0, x1, y0, black);
  img.line(x0, y0, x0, y1, black);
  const std::string x_label = "round-trip latency (us, log scale)";
  img.text((x0 + x1 - image::text_width(x_label, 2)) / 2, y0 + 26, x_label, black, 2);
  img.text(8, y1 - 22, "fraction of round trips <= x", black);
  img.text(x0, 12, title, black, 2);

  // One step curve per series, and its legend line.
  int legend_y = y0 - 20 - 16 * static_cast<int>(series.size());
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    const rgb colour = colours[i % colours.size()];
    const auto n = static_cast<double>(s.us.size());
    int last_x = px(0), last_y = py(0);
    for (std::size_t k = 0; k < s.us.size(); ++k) {
      const int x = px(s.us[k]);
      const int y = py(static_cast<double>(k + 1) / n);
      if (x == last_x && y == last_y) continue;
      img.line(last_x, last_y, x, last_y, colour);
      img.line(x, last_y, x, y, colour);
      img.line(last_x, last_y + 1, x, last_y + 1, colour);  // two pixels thick
      last_x = x;
      last_y = y;
    }
    const std::string legend =
        fmt::format("{}  p50 {:.1f} us  p99 {:.1f} us", s.label, quantile(s.us, 0.5), quantile(s.us, 0.99));
    const int lx = x1 - image::text_width(legend) - 40;
    img.rect(lx, legend_y + 2, lx + 22, legend_y + 4, colour);
    img.text(lx + 30, legend_y, legend, black);
    legend_y += 16;
  }
  return write_file(file, img.to_png());
}

}  // namespace capchan::bench
