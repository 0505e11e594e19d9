// Latency CDFs drawn into a PNG (latency_plot.hpp). The x axis ends at the
// largest p99.9 of the series, so that one stall does not squash the plot;
// the legend gives each series' p50 and p99.
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

// A round tick step (1, 2 or 5 times a power of ten) giving about `n` ticks.
double tick_step(double span, int n) {
  const double raw = span / n;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

}  // namespace

bool write_latency_plot(const std::filesystem::path& file, const std::string& title,
                        std::vector<latency_series_data> series) {
  image img(width, height, white);
  const int x0 = left, x1 = width - right, y0 = height - bottom, y1 = top;
  double x_max = 0;
  for (auto& s : series) {
    std::sort(s.us.begin(), s.us.end());
    x_max = std::max(x_max, quantile(s.us, 0.999));
  }
  if (x_max <= 0) x_max = 1;
  const double step = tick_step(x_max, 8);
  x_max = std::ceil(x_max / step) * step;
  const auto px = [&](double us) { return x0 + static_cast<int>(std::lround((x1 - x0) * std::min(us, x_max) / x_max)); };
  const auto py = [&](double fraction) { return y0 - static_cast<int>(std::lround((y0 - y1) * fraction)); };

  // Grid, axes, ticks.
  for (double v = 0; v <= x_max + step / 2; v += step) {
    const int x = px(v);
    img.line(x, y0, x, y1, grid);
    const std::string label = fmt::format("{:g}", v);
    img.text(x - image::text_width(label) / 2, y0 + 8, label, black);
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
  const std::string x_label = "round-trip latency (us)";
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
