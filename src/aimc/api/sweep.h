// `aimc sweep` as a library call: every point of a sweep (dse/sweep_spec.h) evaluated on its
// architecture (accuracy over chip instances when the sweep names a data set, and the cost
// estimate), written to a results file that a rerun resumes (dse/runner.h).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "aimc/dse/runner.h"
#include "aimc/dse/sweep_spec.h"
#include "aimc/ir/graph.h"
#include "aimc/report/html_report.h"

namespace aimc::api {

struct SweepRequest {
  int jobs = 1;  // points at once in this process
  std::function<void(int64_t done, int64_t total)> progress;
  std::function<void(const std::string&)> warn;
};

// The models of a sweep, loaded once: the model as exported (accuracy runs, any batch) and
// the one-inference model (estimate). Errors name the model file.
struct SweepModels {
  std::unique_ptr<ir::Graph> graph;  // null without a data set
  std::unique_ptr<ir::Graph> one_inference;
};
SweepModels load_sweep_models(const dse::SweepSpec& spec);

// One point's result line body: "metrics" (dse::metric_names), "energy_by_component" (J per
// inference) and "layers" (each layer's node, op, kind, latency_s, energy_j and, with a data
// set, snr_db). Error(kBadInput) when the point's architecture is invalid or the model does
// not fit it.
nlohmann::json sweep_point(const dse::SweepSpec& spec, const SweepModels& models,
                           const dse::Point& point);

dse::RunSummary sweep(const dse::SweepSpec& spec, const std::string& output,
                      const SweepRequest& request);

// `aimc sweep --json`: the counts of the run, and with `pareto` the front.
nlohmann::json sweep_summary_json(const dse::SweepSpec& spec, const std::string& output,
                                  const dse::RunSummary& summary, bool pareto);

// The Pareto front of result lines as `--pareto --json` prints it: each point's index, axes
// and objective values, in point order.
nlohmann::json pareto_json(const std::vector<nlohmann::json>& lines,
                           const std::vector<dse::Objective>& objectives);

// The report of a results file (report/html_report.h): its points, objectives and front;
// `source` is the file as named on the page.
report::SweepReport sweep_report(const dse::ResultsFile& file, const std::string& source);

// A results file with its point lines in point order; Error(kBadInput) when it is missing,
// empty or not a sweep's results.
dse::ResultsFile read_sweep_results(const std::string& path);

}  // namespace aimc::api
