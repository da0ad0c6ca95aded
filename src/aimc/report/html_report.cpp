#include "aimc/report/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "aimc/report/svg.h"

namespace aimc::report {

namespace {

std::string si(double v, const char* unit) {
  if (v == 0 || !std::isfinite(v)) return fmt::format("{:.3g} {}", v, unit);
  static const char* prefixes[] = {"f", "p", "n", "µ", "m", "", "k", "M", "G", "T"};
  int e = static_cast<int>(std::floor(std::log10(std::abs(v)) / 3));
  e = std::clamp(e, -5, 4);
  return fmt::format("{:.3g} {}{}", v / std::pow(1000.0, e), prefixes[e + 5], unit);
}

std::string joules(double v) {
  return si(v, "J");
}
std::string seconds(double v) {
  return si(v, "s");
}
std::string watts(double v) {
  return si(v, "W");
}
std::string per_second(double v) {
  return si(v, "/s");
}
std::string square_mm(double v) {
  return fmt::format("{:.3g} mm²", v * 1e6);
}
std::string percent(double v) {
  return fmt::format("{:.3g} %", v * 100);
}
std::string plain(double v) {
  return fmt::format("{:.4g}", v);
}

Formatter formatter_for(const std::string& metric) {
  if (metric.find("energy") != std::string::npos) return joules;
  if (metric == "latency") return seconds;
  if (metric == "throughput") return per_second;
  if (metric == "power") return watts;
  if (metric == "area") return square_mm;
  if (metric.find("accuracy") != std::string::npos) return percent;
  return plain;
}

std::string metric_label(const std::string& metric) {
  if (metric == "energy") return "energy per inference";
  if (metric == "latency") return "latency";
  if (metric == "throughput") return "throughput (inferences/s)";
  if (metric == "area") return "area";
  return metric;
}

using Objective = ReportObjective;

std::vector<std::string> axes_of(const nlohmann::json& header) {
  std::vector<std::string> out;
  for (const auto& a : header.value("axes", nlohmann::json::array()))
    out.push_back(a.get<std::string>());
  return out;
}

Series named(std::string name) {
  Series s;
  s.name = std::move(name);
  return s;
}

bool has_metric(const nlohmann::json& line, const std::string& metric) {
  return !line.contains("error") && line.contains("metrics") && line["metrics"].contains(metric) &&
         line["metrics"][metric].is_number();
}

double metric(const nlohmann::json& line, const std::string& name) {
  return line["metrics"][name].get<double>();
}

std::string axes_text(const nlohmann::json& line) {
  std::string text;
  for (const auto& [key, value] : line["axes"].items())
    text += (text.empty() ? "" : ", ") + key + "=" +
            (value.is_string() ? value.get<std::string>() : value.dump());
  return text;
}

std::string point_label(const nlohmann::json& line) {
  return fmt::format("point {}: {}", line["point"].get<int64_t>(), axes_text(line));
}

// A log axis when every value is positive and they span more than two decades.
bool wants_log(const std::vector<double>& values) {
  double lo = INFINITY, hi = 0;
  for (double v : values) {
    if (!(v > 0)) return false;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return !values.empty() && hi / lo > 100;
}

std::string safe_id(const std::string& text) {
  std::string out;
  for (char c : text)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out;
}

// The Pareto scatter of objectives a and b: every feasible point, the infeasible ones hollow,
// and the front joined in order of the first objective.
std::string pareto_plot(const SweepReport& r, const Objective& a, const Objective& b, int index) {
  Plot plot;
  plot.id = fmt::format("pareto-{}", index);
  plot.title = fmt::format("Pareto front: {} ({}) vs {} ({})", metric_label(b.metric),
                           b.max ? "max" : "min", metric_label(a.metric), a.max ? "max" : "min");
  plot.x_label = metric_label(a.metric);
  plot.y_label = metric_label(b.metric);
  plot.x_format = formatter_for(a.metric);
  plot.y_format = formatter_for(b.metric);
  Series feasible = named("feasible points"), infeasible = named("infeasible"),
         front = named("Pareto front");
  feasible.color = "#9aa7b8";
  infeasible.color = "#d62728";
  infeasible.hollow = true;
  front.color = "#1f77b4";
  front.line = true;
  const std::set<size_t> on_front(r.front.begin(), r.front.end());
  std::vector<std::pair<double, double>> front_points;
  std::vector<std::string> front_labels;
  std::vector<double> xs, ys;
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const nlohmann::json& line = r.lines[i];
    if (!has_metric(line, a.metric) || !has_metric(line, b.metric)) continue;
    const double x = metric(line, a.metric), y = metric(line, b.metric);
    xs.push_back(x);
    ys.push_back(y);
    Series& s = on_front.count(i) ? front : line.value("feasible", false) ? feasible : infeasible;
    s.x.push_back(x);
    s.y.push_back(y);
    s.labels.push_back(fmt::format("{}\n{} = {}\n{} = {}", point_label(line), a.metric,
                                   plot.x_format(x), b.metric, plot.y_format(y)));
  }
  // The front as a line in order of x.
  std::vector<size_t> order(front.x.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t p, size_t q) { return front.x[p] < front.x[q]; });
  Series sorted = front;
  for (size_t k = 0; k < order.size(); ++k) {
    sorted.x[k] = front.x[order[k]];
    sorted.y[k] = front.y[order[k]];
    sorted.labels[k] = front.labels[order[k]];
  }
  plot.x_log = wants_log(xs);
  plot.y_log = wants_log(ys);
  plot.series = {feasible, infeasible, sorted};
  return scatter_svg(plot);
}

// Objective against one axis; one series per combination of the other axes (at most 8,
// beyond that every point in one series).
std::string axis_plot(const SweepReport& r, const std::string& axis, const std::string& m,
                      const std::vector<std::string>& axes) {
  Plot plot;
  plot.id = "axis-" + safe_id(axis) + "-" + safe_id(m);
  plot.title = fmt::format("{} vs {}", metric_label(m), axis);
  plot.x_label = axis;
  plot.y_label = metric_label(m);
  plot.y_format = formatter_for(m);
  bool numeric = true;
  std::vector<std::string> categories;
  for (const nlohmann::json& line : r.lines) {
    const nlohmann::json& v = line["axes"][axis];
    if (!v.is_number()) numeric = false;
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (std::find(categories.begin(), categories.end(), text) == categories.end())
      categories.push_back(text);
  }
  if (!numeric) plot.x_categories = categories;
  std::string stat;  // accuracy.mean gets ± accuracy.std
  if (m.size() > 5 && m.substr(m.size() - 5) == ".mean") stat = m.substr(0, m.size() - 5) + ".std";

  std::vector<std::string> keys;
  std::map<std::string, Series> groups;
  std::vector<double> xs, ys;
  for (const nlohmann::json& line : r.lines) {
    if (!has_metric(line, m)) continue;
    std::string group;
    for (const std::string& other : axes)
      if (other != axis) {
        const nlohmann::json& v = line["axes"][other];
        group += (group.empty() ? "" : ", ") + other + "=" +
                 (v.is_string() ? v.get<std::string>() : v.dump());
      }
    if (group.empty()) group = m;
    if (!groups.count(group)) keys.push_back(group);
    Series& s = groups[group];
    s.name = group;
    s.line = true;
    const nlohmann::json& v = line["axes"][axis];
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    const double x =
        numeric ? v.get<double>()
                : static_cast<double>(std::find(categories.begin(), categories.end(), text) -
                                      categories.begin());
    s.x.push_back(x);
    s.y.push_back(metric(line, m));
    s.error.push_back(!stat.empty() && has_metric(line, stat) ? metric(line, stat) : 0.0);
    s.labels.push_back(
        fmt::format("{}\n{} = {}", point_label(line), m, plot.y_format(metric(line, m))));
    xs.push_back(x);
    ys.push_back(metric(line, m));
  }
  if (keys.size() > 8) {  // too many lines to read: one cloud of points
    Series all = named("every point");
    for (const std::string& k : keys) {
      const Series& s = groups[k];
      all.x.insert(all.x.end(), s.x.begin(), s.x.end());
      all.y.insert(all.y.end(), s.y.begin(), s.y.end());
      all.error.insert(all.error.end(), s.error.begin(), s.error.end());
      all.labels.insert(all.labels.end(), s.labels.begin(), s.labels.end());
    }
    plot.series.push_back(all);
  } else {
    for (const std::string& k : keys) {
      Series s = groups[k];
      std::vector<size_t> order(s.x.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](size_t p, size_t q) { return s.x[p] < s.x[q]; });
      Series sorted = s;
      for (size_t i = 0; i < order.size(); ++i) {
        sorted.x[i] = s.x[order[i]];
        sorted.y[i] = s.y[order[i]];
        sorted.error[i] = s.error[order[i]];
        sorted.labels[i] = s.labels[order[i]];
      }
      plot.series.push_back(sorted);
    }
  }
  // The digital metric as a dashed reference beside an analog accuracy.
  const std::string base = m.substr(0, m.find('.'));
  const std::string digital = "digital." + base;
  if (m != digital && !r.lines.empty() && has_metric(r.lines.front(), digital) && !xs.empty()) {
    Series ref = named("digital");
    ref.dashed = true;
    ref.line = true;
    ref.markers = false;
    ref.color = "#444444";
    const double d = metric(r.lines.front(), digital);
    ref.x = {*std::min_element(xs.begin(), xs.end()), *std::max_element(xs.begin(), xs.end())};
    ref.y = {d, d};
    plot.series.push_back(ref);
  }
  plot.x_log = numeric && wants_log(xs);
  // An axis of a few integers (bits, rows) is labelled with its values.
  if (numeric && categories.size() <= 12) {
    bool integers = true;
    for (const nlohmann::json& line : r.lines)
      integers = integers && line["axes"][axis].is_number_integer();
    if (integers)
      for (const std::string& c : categories) plot.x_ticks.push_back(std::stod(c));
    std::sort(plot.x_ticks.begin(), plot.x_ticks.end());
  }
  return scatter_svg(plot);
}

// The points whose details the report shows: the front, else the feasible ones, at most 16.
std::vector<size_t> detail_points(const SweepReport& r) {
  std::vector<size_t> out = r.front;
  if (out.empty())
    for (size_t i = 0; i < r.lines.size(); ++i)
      if (!r.lines[i].contains("error")) out.push_back(i);
  if (out.size() > 16) out.resize(16);
  return out;
}

std::string components_plot(const SweepReport& r, const std::vector<size_t>& points) {
  BarChart chart;
  chart.id = "energy-components";
  chart.title = "Energy per inference by component";
  chart.value_label = "energy per inference";
  chart.format = joules;
  std::vector<std::string> components;
  for (size_t i : points) {
    const nlohmann::json by = r.lines[i].value("energy_by_component", nlohmann::json::object());
    for (const auto& [name, value] : by.items())
      if (value.is_number() && value.get<double>() > 0 &&
          std::find(components.begin(), components.end(), name) == components.end())
        components.push_back(name);
  }
  chart.series = components;
  chart.values.assign(components.size(), std::vector<double>(points.size(), 0.0));
  for (size_t p = 0; p < points.size(); ++p) {
    const nlohmann::json& line = r.lines[points[p]];
    chart.rows.push_back(point_label(line));
    const nlohmann::json by = line.value("energy_by_component", nlohmann::json::object());
    for (size_t c = 0; c < components.size(); ++c)
      if (by.contains(components[c])) chart.values[c][p] = by[components[c]].get<double>();
  }
  return bar_svg(chart);
}

std::string layers_plot(const nlohmann::json& line, const std::string& field,
                        const std::string& what, Formatter format) {
  BarChart chart;
  chart.id = fmt::format("layers-{}-{}", what, line["point"].get<int64_t>());
  chart.title =
      fmt::format("{} per layer, {}", what == "latency" ? "Latency" : "Energy per inference",
                  point_label(line));
  chart.value_label = what == "latency" ? "latency of the batch" : "dynamic energy per inference";
  chart.format = format;
  chart.series = {what};
  chart.values.resize(1);
  for (const auto& layer : line.value("layers", nlohmann::json::array())) {
    chart.rows.push_back(layer.value("node", "") + " (" + layer.value("kind", "") + ")");
    chart.values[0].push_back(layer.value(field, 0.0));
  }
  return bar_svg(chart);
}

struct Plots {
  std::vector<std::pair<std::string, std::string>> pareto, axes, components;
  std::vector<std::pair<size_t, std::vector<std::pair<std::string, std::string>>>> layers;
};

Plots make_plots(const SweepReport& r) {
  Plots plots;
  const std::vector<Objective>& objectives = r.objectives;
  const std::vector<std::string> axes = axes_of(r.header);
  int pair = 0;
  for (size_t a = 0; a < objectives.size() && pair < 3; ++a)
    for (size_t b = a + 1; b < objectives.size() && pair < 3; ++b, ++pair) {
      std::string svg = pareto_plot(r, objectives[a], objectives[b], pair);
      plots.pareto.emplace_back(fmt::format("pareto-{}", pair), svg);
    }
  for (const std::string& axis : axes)
    for (size_t o = 0; o < objectives.size() && o < 4; ++o) {
      const std::string& m = objectives[o].metric;
      plots.axes.emplace_back("axis-" + safe_id(axis) + "-" + safe_id(m),
                              axis_plot(r, axis, m, axes));
    }
  const std::vector<size_t> points = detail_points(r);
  if (!points.empty())
    plots.components.emplace_back("energy-components", components_plot(r, points));
  for (size_t i : points) {
    const nlohmann::json& line = r.lines[i];
    const int64_t p = line["point"].get<int64_t>();
    plots.layers.push_back(
        {i,
         {{fmt::format("layers-latency-{}", p), layers_plot(line, "latency_s", "latency", seconds)},
          {fmt::format("layers-energy-{}", p), layers_plot(line, "energy_j", "energy", joules)}}});
  }
  return plots;
}

std::string value_cell(const nlohmann::json& line, const std::string& m) {
  if (!has_metric(line, m)) return "<td></td>";
  return fmt::format("<td>{}</td>", xml_escape(formatter_for(m)(metric(line, m))));
}

constexpr const char* kStyle =
    R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1450px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f4f4f4}tr.front td{background:#eef5fc}tr.failed td{color:#999}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{border:1px solid #eee}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:13px}dt{font-weight:bold})";

// Shows the layer plots of the chosen point; and records for tests that the page ran: the
// number of plots (data-plots) and any script error (data-errors).
constexpr const char* kScript = R"(window.addEventListener('error', function (e) {
  document.body.dataset.errors = (document.body.dataset.errors || '') + e.message + ';';
});
function showPoint(id) {
  document.querySelectorAll('.point-detail').forEach(function (d) {
    d.style.display = d.id === id ? 'block' : 'none';
  });
}
window.addEventListener('load', function () {
  var select = document.getElementById('point-select');
  if (select) { showPoint(select.value); select.addEventListener('change', function () { showPoint(select.value); }); }
  document.body.dataset.plots = String(document.querySelectorAll('svg.plot').length);
  document.body.dataset.status = 'loaded';
});)";

}  // namespace

std::string format_metric(const std::string& metric, double value) {
  return formatter_for(metric)(value);
}

std::map<std::string, std::string> sweep_report_svgs(const SweepReport& report) {
  std::map<std::string, std::string> out;
  Plots plots = make_plots(report);
  for (auto* group : {&plots.pareto, &plots.axes, &plots.components})
    for (auto& [name, svg] : *group) out[name] = svg;
  for (auto& [line, list] : plots.layers)
    for (auto& [name, svg] : list) out[name] = svg;
  return out;
}

std::string sweep_report_html(const SweepReport& r) {
  const nlohmann::json& h = r.header;
  const std::vector<Objective>& objectives = r.objectives;
  const std::vector<std::string> axes = axes_of(h);
  const Plots plots = make_plots(r);
  int64_t feasible = 0, failed = 0;
  for (const nlohmann::json& line : r.lines) {
    feasible += line.value("feasible", false) ? 1 : 0;
    failed += line.contains("error") ? 1 : 0;
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += fmt::format("<title>aimc sweep: {}</title>\n<style>{}</style>\n</head>\n<body>\n",
                      xml_escape(h.value("sweep", "")), kStyle);
  html += fmt::format("<h1>aimc sweep report: {}</h1>\n<dl>\n", xml_escape(h.value("sweep", "")));
  auto row = [&](const std::string& key, const std::string& value) {
    html += fmt::format("<dt>{}</dt><dd>{}</dd>\n", xml_escape(key), xml_escape(value));
  };
  row("results", r.source);
  row("model", h.value("model", ""));
  row("architecture",
      h.value("arch", "") +
          (h.value("set", nlohmann::json::array()).empty() ? "" : " with " + h["set"].dump()));
  if (!h.value("dataset", "").empty())
    row("data set",
        fmt::format(
            "{} ({} samples, {} chip instance(s) per point, seed {})", h.value("dataset", ""),
            h.value("limit", -1) < 0 ? std::string("all") : std::to_string(h.value("limit", -1)),
            h.value("trials", 1), h.value("seed", 0)));
  std::string objective_text;
  for (const Objective& o : objectives)
    objective_text +=
        (objective_text.empty() ? "" : ", ") + o.metric + " (" + (o.max ? "max" : "min") + ")";
  row("objectives", objective_text);
  std::string constraint_text;
  for (const auto& c : h.value("constraints", nlohmann::json::array()))
    constraint_text += (constraint_text.empty() ? "" : "; ") + c.get<std::string>();
  row("constraints", constraint_text.empty() ? "none" : constraint_text);
  row("points", fmt::format("{} of {} ({} search): {} feasible, {} failed, {} on the Pareto front",
                            r.lines.size(), h.value("points", 0), h.value("search", "grid"),
                            feasible, failed, r.front.size()));
  html += "</dl>\n";

  auto section = [&](const std::string& title,
                     const std::vector<std::pair<std::string, std::string>>& list) {
    if (list.empty()) return;
    html += fmt::format("<h2>{}</h2>\n<div class=\"plots\">\n", xml_escape(title));
    for (const auto& [name, svg] : list) html += svg;
    html += "</div>\n";
  };
  section("Pareto front", plots.pareto);
  section("Objectives against each axis", plots.axes);
  section("Energy breakdown", plots.components);
  if (!plots.layers.empty()) {
    html +=
        "<h2>Latency and energy per layer</h2>\n<label for=\"point-select\">point: </label>"
        "<select id=\"point-select\">\n";
    for (const auto& [i, list] : plots.layers)
      html += fmt::format("<option value=\"point-{}\">{}</option>\n",
                          r.lines[i]["point"].get<int64_t>(), xml_escape(point_label(r.lines[i])));
    html += "</select>\n";
    for (const auto& [i, list] : plots.layers) {
      html += fmt::format("<div class=\"point-detail plots\" id=\"point-{}\">\n",
                          r.lines[i]["point"].get<int64_t>());
      for (const auto& [name, svg] : list) html += svg;
      html += "</div>\n";
    }
  }

  // Every point.
  std::vector<std::string> columns;
  for (const Objective& o : objectives) columns.push_back(o.metric);
  for (const auto& c : h.value("constraints", nlohmann::json::array())) {
    const std::string text = c.get<std::string>();
    const std::string m = text.substr(0, text.find(' '));
    if (std::find(columns.begin(), columns.end(), m) == columns.end()) columns.push_back(m);
  }
  for (const char* m : {"energy", "latency", "throughput", "area"})
    if (std::find(columns.begin(), columns.end(), m) == columns.end()) columns.push_back(m);
  html += "<h2>Every point</h2>\n<table>\n<tr><th>point</th>";
  for (const std::string& a : axes) html += fmt::format("<th>{}</th>", xml_escape(a));
  for (const std::string& m : columns) html += fmt::format("<th>{}</th>", xml_escape(m));
  html += "<th>feasible</th><th>front</th><th>note</th></tr>\n";
  const std::set<size_t> on_front(r.front.begin(), r.front.end());
  for (size_t i = 0; i < r.lines.size(); ++i) {
    const nlohmann::json& line = r.lines[i];
    const char* cls = line.contains("error") ? " class=\"failed\""
                      : on_front.count(i)    ? " class=\"front\""
                                             : "";
    html += fmt::format("<tr{}><td>{}</td>", cls, line["point"].get<int64_t>());
    for (const std::string& a : axes) {
      const nlohmann::json& v = line["axes"].contains(a) ? line["axes"][a] : nlohmann::json();
      html +=
          fmt::format("<td>{}</td>", xml_escape(v.is_string() ? v.get<std::string>() : v.dump()));
    }
    for (const std::string& m : columns) html += value_cell(line, m);
    std::string note = line.contains("error") ? line["error"].get<std::string>() : "";
    if (note.empty())
      for (const auto& v : line.value("violated", nlohmann::json::array()))
        note += (note.empty() ? "violates " : "; ") + v.get<std::string>();
    html += fmt::format("<td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>\n",
                        line.value("feasible", false) ? "yes" : "no", on_front.count(i) ? "✓" : "",
                        xml_escape(note));
  }
  html += "</table>\n";
  html += fmt::format("<script>\n{}\n</script>\n</body>\n</html>\n", kScript);
  return html;
}

}  // namespace aimc::report
