#include "aimc/api/sweep.h"

#include <algorithm>
#include <cmath>

#include "aimc/api/estimate.h"
#include "aimc/api/evaluate.h"
#include "aimc/api/model.h"
#include "aimc/arch/architecture.h"
#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/dse/pareto.h"
#include "aimc/dse/results.h"

namespace aimc::api {

namespace {

// JSON has no infinity: an SNR without error (+inf) is written as null.
nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

SweepModels load_sweep_models(const dse::SweepSpec& spec) {
  SweepModels models;
  if (!spec.dataset.empty()) models.graph = load_model(spec.model);
  models.one_inference = load_model_for_one_inference(spec.model);
  return models;
}

nlohmann::json sweep_point(const dse::SweepSpec& spec, const SweepModels& models,
                           const dse::Point& point) {
  std::vector<std::string> overrides = spec.overrides;
  for (const std::string& o : point.overrides()) overrides.push_back(o);
  const arch::Architecture arch = arch::parse_architecture(spec.arch_text, spec.arch, overrides);

  nlohmann::json metrics = nlohmann::json::object();
  std::optional<EvalResult> eval;
  if (models.graph) {
    EvalRequest request;
    request.model_name = spec.model;
    request.dataset = spec.dataset;
    request.data_dir = spec.data_dir;
    request.limit = spec.limit;
    request.batch = spec.eval_batch;
    request.arch = &arch;
    request.trials = spec.trials;
    request.seed = spec.seed;
    eval = evaluate(*models.graph, request);
    metrics[eval->metric + ".mean"] = eval->summary.mean;
    metrics[eval->metric + ".std"] = eval->summary.std;
    metrics[eval->metric + ".min"] = eval->summary.min;
    metrics[eval->metric + ".max"] = eval->summary.max;
    metrics["digital." + eval->metric] = eval->metric_value(eval->digital);
  }
  EstimateRequest request;
  request.batch = spec.batch;
  request.chips = spec.chips;
  request.replicate = spec.replicate;
  const EstimateResult estimated = estimate(*models.one_inference, arch, request);
  const cost::NnCost& c = estimated.cost;
  metrics["energy"] = c.energy_j;
  metrics["dynamic_energy"] = c.dynamic_j;
  metrics["leakage_energy"] = c.leakage_j;
  metrics["latency"] = c.latency_s;
  metrics["throughput"] = c.throughput;
  metrics["power"] = c.power_w;
  metrics["area"] = c.area_m2;
  metrics["chips"] = c.chips;

  nlohmann::json by_component = nlohmann::json::object();
  for (const cost::ComponentTotal& t : c.by_component) by_component[t.component] = t.energy_j;
  nlohmann::json layers = nlohmann::json::array();
  for (const cost::LayerCost& l : c.by_layer) {
    nlohmann::json layer = {{"node", l.node},
                            {"op", l.op},
                            {"kind", compiler::layer_kind_name(l.kind)},
                            {"latency_s", l.latency_s},
                            {"energy_j", l.energy_j}};
    if (eval) layer["snr_db"] = finite_or_null(eval->snr_db(l.node));
    layers.push_back(layer);
  }
  return {{"metrics", metrics}, {"energy_by_component", by_component}, {"layers", layers}};
}

dse::RunSummary sweep(const dse::SweepSpec& spec, const std::string& output,
                      const SweepRequest& request) {
  const SweepModels models = load_sweep_models(spec);
  dse::RunOptions options;
  options.jobs = request.jobs;
  options.progress = request.progress;
  options.warn = request.warn;
  return dse::run_sweep(
      spec, output, [&](const dse::Point& point) { return sweep_point(spec, models, point); },
      options);
}

nlohmann::json pareto_json(const std::vector<nlohmann::json>& lines,
                           const std::vector<dse::Objective>& objectives) {
  nlohmann::json front = nlohmann::json::array();
  for (size_t i : dse::pareto_front(lines, objectives)) {
    nlohmann::json values = nlohmann::json::object();
    for (const dse::Objective& o : objectives) values[o.metric] = lines[i]["metrics"][o.metric];
    front.push_back(
        {{"point", lines[i]["point"]}, {"axes", lines[i]["axes"]}, {"objectives", values}});
  }
  return front;
}

nlohmann::json sweep_summary_json(const dse::SweepSpec& spec, const std::string& output,
                                  const dse::RunSummary& summary, bool pareto) {
  nlohmann::json result = {{"sweep", spec.file},
                           {"output", output},
                           {"points", summary.lines.size()},
                           {"resumed", summary.resumed},
                           {"computed", summary.computed},
                           {"failed", summary.failed},
                           {"feasible", summary.feasible},
                           {"ranks", summary.ranks}};
  if (pareto) result["pareto"] = pareto_json(summary.lines, spec.objectives);
  return result;
}

report::SweepReport sweep_report(const dse::ResultsFile& file, const std::string& source) {
  const std::vector<dse::Objective> objectives = dse::header_objectives(file.header);
  report::SweepReport r;
  r.header = file.header;
  r.lines = file.points;
  for (const dse::Objective& o : objectives)
    r.objectives.push_back({o.metric, o.goal == dse::Goal::kMax});
  r.front = dse::pareto_front(file.points, objectives);
  r.source = source;
  return r;
}

dse::ResultsFile read_sweep_results(const std::string& path) {
  dse::ResultsFile file = dse::read_results(path);
  if (file.header.is_null()) throw_bad_input("{}: no such results file (or it is empty)", path);
  std::stable_sort(file.points.begin(), file.points.end(), [](const auto& a, const auto& b) {
    return a["point"].template get<int64_t>() < b["point"].template get<int64_t>();
  });
  return file;
}

}  // namespace aimc::api
