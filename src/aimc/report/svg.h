// Small SVG charts for the HTML report: scatter/line plots with optional error bars and log
// axes, and horizontal (stacked) bar charts. Self-contained markup, no scripts, no fonts to
// fetch; every mark carries a <title> so that a browser shows its value on hover.
#pragma once

#include <string>
#include <vector>

namespace aimc::report {

// How an axis value reads to a person: "12.3 µJ", "89.1 %", "1.5 mm²".
using Formatter = std::string (*)(double);

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> error;        // ± on y, empty for none
  std::vector<std::string> labels;  // hover text per point, may be empty
  bool line = false;                // connect the points (in the order given)
  bool markers = true;
  bool hollow = false;  // open markers (infeasible points)
  bool dashed = false;
  std::string color;  // "" : the palette's next colour
};

struct Plot {
  std::string id, title, x_label, y_label;
  Formatter x_format = nullptr, y_format = nullptr;  // nullptr: %g
  bool x_log = false, y_log = false;
  std::vector<std::string> x_categories;  // non-empty: x is an index into these names
  std::vector<double> x_ticks;            // non-empty: these x ticks (an axis's values)
  std::vector<Series> series;
};

std::string scatter_svg(const Plot& plot);

struct BarChart {
  std::string id, title, value_label;
  Formatter format = nullptr;
  std::vector<std::string> rows;  // one bar per row, top to bottom
  // One stack segment per series: values[series][row]. A single series is a plain bar chart.
  std::vector<std::string> series;
  std::vector<std::vector<double>> values;
};

std::string bar_svg(const BarChart& chart);

// Escapes & < > " for text and attribute values.
std::string xml_escape(const std::string& text);

// The palette colour of series i.
const char* palette(size_t i);

}  // namespace aimc::report
