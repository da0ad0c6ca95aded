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

}  // namespace aimc::api
