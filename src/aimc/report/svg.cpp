#include "aimc/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace aimc::report {

namespace {

constexpr double kWidth = 680, kHeight = 400;
constexpr double kLeft = 84, kRight = 170, kTop = 40, kBottom = 56;

std::string default_format(double v) {
  return fmt::format("{:.3g}", v);
}

std::string label(Formatter format, double v) {
  return format ? format(v) : default_format(v);
}

struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  double pixel_lo = 0, pixel_hi = 1;
  double to_pixel(double v) const {
    const double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
    const double t = ((log ? std::log10(v) : v) - a) / (b - a);
    return pixel_lo + t * (pixel_hi - pixel_lo);
  }
};

// A data range widened so that it is never empty, padded by 5 % on a linear axis.
Scale make_scale(double lo, double hi, bool log, double pixel_lo, double pixel_hi) {
  Scale s;
  s.log = log;
  s.pixel_lo = pixel_lo;
  s.pixel_hi = pixel_hi;
  if (!(lo <= hi)) lo = hi = log ? 1.0 : 0.0;  // no data
  if (log) {
    if (lo == hi) {
      lo /= 2;
      hi *= 2;
    }
    s.lo = lo / 1.15;
    s.hi = hi * 1.15;
  } else {
    if (lo == hi) {
      const double d = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
    const double pad = (hi - lo) * 0.05;
    s.lo = lo - pad;
    s.hi = hi + pad;
  }
  return s;
}

std::vector<double> ticks(const Scale& s) {
  std::vector<double> out;
  if (s.log) {
    const int first = static_cast<int>(std::ceil(std::log10(s.lo) - 1e-9));
    const int last = static_cast<int>(std::floor(std::log10(s.hi) + 1e-9));
    for (int e = first; e <= last; ++e) out.push_back(std::pow(10.0, e));
    if (out.size() < 2) {  // less than a decade: 1-2-5 steps
      out.clear();
      for (int e = first - 1; e <= last + 1; ++e)
        for (double m : {1.0, 2.0, 5.0}) {
          const double v = m * std::pow(10.0, e);
          if (v >= s.lo && v <= s.hi) out.push_back(v);
        }
    }
    return out;
  }
  const double raw = (s.hi - s.lo) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  for (double v = std::ceil(s.lo / step) * step; v <= s.hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string header(const std::string& id, const std::string& title, double width, double height) {
  return fmt::format(
      "<svg class=\"plot\" id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
      "height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"22\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
      xml_escape(id), width, height, width, height, kLeft, xml_escape(title));
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char* palette(size_t i) {
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
  return colors[i % (sizeof(colors) / sizeof(colors[0]))];
}

std::string scatter_svg(const Plot& plot) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  for (const Series& s : plot.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      const double e = i < s.error.size() ? s.error[i] : 0.0;
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (plot.x_log && s.x[i] <= 0) continue;
      if (plot.y_log && s.y[i] <= 0) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, plot.y_log ? s.y[i] : s.y[i] - e);
      y_hi = std::max(y_hi, s.y[i] + e);
    }
  const bool categorical = !plot.x_categories.empty();
  if (categorical) {
    x_lo = -0.5;
    x_hi = static_cast<double>(plot.x_categories.size()) - 0.5;
  }
  const Scale xs = make_scale(x_lo, x_hi, plot.x_log && !categorical, kLeft, kWidth - kRight);
  const Scale ys = make_scale(y_lo, y_hi, plot.y_log, kHeight - kBottom, kTop);
  auto inside = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!xs.log || x > 0) && (!ys.log || y > 0);
  };

  std::string svg = header(plot.id, plot.title, kWidth, kHeight);
  // Grid and tick labels.
  const double x0 = kLeft, x1 = kWidth - kRight, y0 = kHeight - kBottom, y1 = kTop;
  if (categorical) {
    for (size_t i = 0; i < plot.x_categories.size(); ++i) {
      const double px = xs.to_pixel(static_cast<double>(i));
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", px,
                         y0 + 16, xml_escape(plot.x_categories[i]));
    }
  } else {
    for (double t : plot.x_ticks.empty() ? ticks(xs) : plot.x_ticks) {
      const double px = xs.to_pixel(t);
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
          "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
          px, y0, y1, y0 + 16, xml_escape(label(plot.x_format, t)));
    }
  }
  for (double t : ticks(ys)) {
    const double py = ys.to_pixel(t);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{1:.1f}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
        x0, x1, py, x0 - 6, py + 4, xml_escape(label(plot.y_format, t)));
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", x0,
      y1, x1 - x0, y0 - y1);
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     (x0 + x1) / 2, kHeight - 14, xml_escape(plot.x_label));
  svg += fmt::format(
      "<text transform=\"translate(18 {:.1f}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      (y0 + y1) / 2, xml_escape(plot.y_label));

  // Series, then the legend.
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const Series& s = plot.series[k];
    const std::string color = s.color.empty() ? palette(k) : s.color;
    svg += fmt::format("<g class=\"series\" data-name=\"{}\">\n", xml_escape(s.name));
    if (s.line) {
      std::string points;
      for (size_t i = 0; i < s.x.size(); ++i)
        if (inside(s.x[i], s.y[i]))
          points += fmt::format("{:.1f},{:.1f} ", xs.to_pixel(s.x[i]), ys.to_pixel(s.y[i]));
      svg += fmt::format(
          "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{}/>\n", points,
          color, s.dashed ? " stroke-dasharray=\"5 4\"" : "");
    }
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!inside(s.x[i], s.y[i])) continue;
      const double px = xs.to_pixel(s.x[i]), py = ys.to_pixel(s.y[i]);
      if (i < s.error.size() && s.error[i] > 0 && !ys.log) {
        svg += fmt::format(
            "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"{3}\"/>\n",
            px, ys.to_pixel(s.y[i] - s.error[i]), ys.to_pixel(s.y[i] + s.error[i]), color);
      }
      if (!s.markers) continue;
      const std::string tip =
          i < s.labels.size() ? s.labels[i]
                              : label(plot.x_format, s.x[i]) + ", " + label(plot.y_format, s.y[i]);
      svg += fmt::format(
          "<circle class=\"mark\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" stroke=\"{}\" "
          "stroke-width=\"1.5\"><title>{}</title></circle>\n",
          px, py, s.hollow ? "white" : color, color, xml_escape(tip));
    }
    svg += "</g>\n";
    const double ly = kTop + 8 + 18.0 * static_cast<double>(k);
    svg += fmt::format(
        "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" stroke=\"{}\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
        x1 + 14, ly, s.hollow ? "white" : color, color, x1 + 24, ly + 4, xml_escape(s.name));
  }
  svg += "</svg>\n";
  return svg;
}

std::string bar_svg(const BarChart& chart) {
  constexpr double kRow = 16, kLabel = 270, kPlotWidth = 420, kLegend = 110;
  const double top = kTop + 18 + (chart.series.size() > 1 ? 18.0 : 0.0);
  const double height = top + kRow * static_cast<double>(chart.rows.size()) + 30;
  const double width = kLabel + kPlotWidth + kLegend;
  double hi = 0;
  for (size_t r = 0; r < chart.rows.size(); ++r) {
    double total = 0;
    for (const auto& values : chart.values) total += std::max(0.0, values[r]);
    hi = std::max(hi, total);
  }
  const Scale xs = make_scale(0, hi > 0 ? hi : 1, false, kLabel, kLabel + kPlotWidth);
  std::string svg = header(chart.id, chart.title, width, height);
  for (double t : ticks(xs)) {
    if (t < 0) continue;
    const double px = xs.to_pixel(t);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
        px, top - 4, height - 30, height - 16, xml_escape(label(chart.format, t)));
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     kLabel + kPlotWidth / 2, height - 2, xml_escape(chart.value_label));
  if (chart.series.size() > 1) {
    double lx = kLabel;
    for (size_t k = 0; k < chart.series.size(); ++k) {
      svg += fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"10\" height=\"10\" fill=\"{}\"/>"
          "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
          lx, kTop + 4, palette(k), lx + 14, kTop + 13, xml_escape(chart.series[k]));
      lx += 22 + 7.0 * static_cast<double>(chart.series[k].size());
    }
  }
  for (size_t r = 0; r < chart.rows.size(); ++r) {
    const double y = top + kRow * static_cast<double>(r);
    std::string name = chart.rows[r];
    if (name.size() > 42) name = name.substr(0, 41) + "…";
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                       kLabel - 6, y + 12, xml_escape(name));
    double start = 0;
    for (size_t k = 0; k < chart.values.size(); ++k) {
      const double v = std::max(0.0, chart.values[k][r]);
      if (v <= 0) continue;
      const double px = xs.to_pixel(start), pw = xs.to_pixel(start + v) - px;
      const std::string tip = chart.rows[r] +
                              (chart.series.size() > 1 ? ", " + chart.series[k] : "") + ": " +
                              label(chart.format, v);
      svg += fmt::format(
          "<rect class=\"mark\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{}\" "
          "fill=\"{}\"><title>{}</title></rect>\n",
          px, y + 2, std::max(pw, 0.5), kRow - 4, palette(k), xml_escape(tip));
      start += v;
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace aimc::report
