// The HTML report of a sweep (`aimc report`, docs/sweep.md): one self-contained page (inline
// SVG and a few lines of script, nothing fetched) with the Pareto scatter of the objectives,
// each objective against each axis, the energy breakdown per component, latency and energy
// per layer of the front's points, and a table of every point.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aimc::report {

struct ReportObjective {
  std::string metric;
  bool max = false;  // else min
};

struct SweepReport {
  nlohmann::json header;                    // the results file's header line
  std::vector<ReportObjective> objectives;  // the header's: what the front is over
  std::vector<nlohmann::json> lines;        // point lines, in point order
  std::vector<size_t> front;                // indices into lines of the Pareto front
  std::string source;                       // the results file, named on the page
};

std::string sweep_report_html(const SweepReport& report);

// Every plot of the page by name (pareto-0, axis-adc.bits-accuracy.mean, energy-components,
// layers-latency-<point>, ...): what `aimc report --svg-dir` writes.
std::map<std::string, std::string> sweep_report_svgs(const SweepReport& report);

// How a metric's value reads: energy in J, latency in s, area in mm², accuracy in %.
std::string format_metric(const std::string& metric, double value);

}  // namespace aimc::report
