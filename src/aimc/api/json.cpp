#include "aimc/api/json.h"

#include <algorithm>

#include "aimc/compiler/mapping.h"
#include "aimc/compiler/mapping_report.h"
#include "aimc/report/summary.h"

namespace aimc::api {

namespace {

// The metric's fields, as the JSON object "digital" holds them.
nlohmann::json metric_json(const std::string& metric, const data::Score& score) {
  if (metric == "accuracy") return {{"accuracy", score.accuracy()}, {"correct", score.correct}};
  return {{"bits_per_char", score.bits_per_char()},
          {"perplexity", score.perplexity()},
          {"mean_cross_entropy", score.mean_cross_entropy()},
          {"predictions", score.predictions}};
}

nlohmann::json analog_json(const EvalRequest& request, const std::string& arch_file,
                           const EvalResult& r) {
  nlohmann::json per_trial = nlohmann::json::array();
  for (const data::Score& s : r.trials) per_trial.push_back(metric_json(r.metric, s));
  nlohmann::json json = {{"arch", request.arch->name},
                         {"arch_file", arch_file},
                         {"trials", request.trials},
                         {"seed", request.seed},
                         {r.metric, report::trial_summary_json(r.summary)},
                         {"per_trial", per_trial},
                         {"seconds", r.analog_seconds}};
  if (r.metric == "bits_per_char") json["perplexity"] = report::trial_summary_json(r.perplexity);
  return json;
}

nlohmann::json baseline_json(const cost::GpuCost& gpu, const cost::GpuSpec& spec,
                             const GpuComparison& c) {
  return {{"gpu", spec.name},
          {"source", spec.source.empty() ? "built-in (presets/gpu-a100.yaml)" : spec.source},
          {"peak_flops", spec.peak_flops},
          {"memory_bandwidth_b_per_s", spec.memory_bandwidth},
          {"tdp_w", spec.tdp},
          {"bytes_per_element", spec.bytes_per_element},
          {"launch_overhead_s", spec.launch_overhead},
          {"min_kernel_time_s", spec.min_kernel_time},
          {"idle_power_w", spec.idle_power < 0 ? spec.tdp : spec.idle_power},
          {"launch_bound_layers",
           std::count_if(gpu.by_layer.begin(), gpu.by_layer.end(),
                         [](const cost::GpuLayerCost& l) { return l.launch_bound; })},
          {"latency_s", gpu.latency_s},
          {"throughput_inf_per_s", gpu.throughput},
          {"energy_j", gpu.energy_j},
          {"power_w", gpu.power_w},
          {"speedup", c.speedup},
          {"throughput_ratio", c.throughput_ratio},
          {"energy_ratio", c.energy_ratio}};
}

double ratio(double a, double b) {
  return b > 0 ? a / b : 0.0;
}

}  // namespace

nlohmann::json eval_json(const EvalResult& r, const EvalRequest& request,
                         const std::string& arch_file) {
  nlohmann::json digital_json = metric_json(r.metric, r.digital);
  digital_json["seconds"] = r.digital_seconds;
  nlohmann::json result = {{"model", request.model_name},
                           {"dataset", r.dataset},
                           {"split", r.split},
                           {"samples", r.digital.samples},
                           {"digital", digital_json}};
  if (request.arch) {
    result["analog"] = analog_json(request, arch_file, r);
    nlohmann::json layers = nlohmann::json::array();
    for (const analog::AnalogLayer& l : r.layers)
      layers.push_back({{"name", l.name},
                        {"op", l.op},
                        {"placement", arch::placement_name(l.placement)},
                        {"arrays", l.arrays},
                        {"acam_rows", l.acam_rows},
                        {"snr_db", report::finite_or_null(r.snr_db(l.name))}});
    result["layers"] = layers;
  }
  return result;
}

nlohmann::json estimate_json(const EstimateResult& r, const std::string& model,
                             const arch::Architecture& arch,
                             const std::optional<cost::GpuSpec>& baseline) {
  const cost::NnCost& c = r.cost;
  const compiler::Mapping& mapping = r.mapping;
  nlohmann::json by_component = nlohmann::json::object();
  for (const cost::ComponentTotal& t : c.by_component)
    by_component[t.component] = {{"actions", t.actions},     {"instances", t.instances},
                                 {"dynamic_j", t.dynamic_j}, {"leakage_j", t.leakage_j},
                                 {"energy_j", t.energy_j},   {"area_m2", t.area_m2}};
  nlohmann::json by_layer = nlohmann::json::array();
  for (const cost::LayerCost& l : c.by_layer)
    by_layer.push_back({{"node", l.node},
                        {"op", l.op},
                        {"kind", compiler::layer_kind_name(l.kind)},
                        {"arrays", l.arrays},
                        {"acam_units", l.acam_units},
                        {"cores", l.cores},
                        {"replicas", l.replicas},
                        {"hops_per_transfer", l.hops_per_transfer},
                        {"latency_s", l.latency_s},
                        {"energy_j", l.energy_j},
                        {"actions", l.actions}});
  nlohmann::json result = {{"model", model},
                           {"arch", arch.name},
                           {"batch", c.batch},
                           {"chips", c.chips},
                           {"arrays", mapping.arrays_used},
                           {"acam_units", mapping.acam_units_used},
                           {"cores", mapping.cores_used},
                           {"tiles", mapping.tiles_used},
                           {"replicas_added", mapping.replicas_added},
                           {"element_hops", compiler::element_hops(mapping)},
                           {"warnings", c.warnings},
                           {"latency_s", c.latency_s},
                           {"interval_s", c.interval_s},
                           {"throughput_inf_per_s", c.throughput},
                           {"energy_j", c.energy_j},
                           {"dynamic_j", c.dynamic_j},
                           {"leakage_j", c.leakage_j},
                           {"area_m2", c.area_m2},
                           {"power_w", c.power_w},
                           {"breakdown", {{"by_component", by_component}, {"by_layer", by_layer}}}};
  if (r.gpu) result["baseline"] = baseline_json(*r.gpu, *baseline, r.comparison);
  return result;
}

nlohmann::json peak_json(const arch::Architecture& arch) {
  const cost::PeakPerformance peak = cost::estimate_peak(arch);
  return {{"arch", arch.name},
          {"gops", peak.gops},
          {"gops_per_mm2", peak.gops_per_mm2},
          {"gops_per_w", peak.gops_per_w},
          {"area_m2", peak.area_m2},
          {"power_w", peak.power_w},
          {"macs_per_s", peak.macs_per_s}};
}

nlohmann::json compile_json(const CompileResult& result, const std::string& model,
                            const arch::Architecture& arch) {
  nlohmann::json json = compiler::mapping_json(result.mapping, arch, result.programs);
  json["model"] = model;
  return json;
}

nlohmann::json simulate_json(const SimulateResult& r, const std::string& model,
                             const arch::Architecture& arch, double wall_s,
                             const std::string& trace_file, int64_t spans) {
  const sim::SimResult& s = r.sim;
  nlohmann::json by_component = nlohmann::json::object();
  for (const sim::ComponentEnergy& c : s.by_component)
    by_component[c.component] = {{"actions", c.actions},
                                 {"dynamic_j", c.dynamic_j},
                                 {"leakage_j", c.leakage_j},
                                 {"energy_j", c.energy_j}};
  nlohmann::json units = nlohmann::json::object();
  for (const sim::UnitUtilisation& u : s.units)
    units[u.unit] = {
        {"instances", u.instances}, {"busy_s", u.busy_s}, {"utilisation", u.utilisation}};
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerComparison& l : r.layers)
    layers.push_back({{"node", l.node},
                      {"op", l.op},
                      {"kind", compiler::layer_kind_name(l.kind)},
                      {"estimate_bound", l.bound},
                      {"latency_s", l.sim_latency_s},
                      {"estimate_latency_s", l.estimate_latency_s},
                      {"latency_ratio", ratio(l.sim_latency_s, l.estimate_latency_s)},
                      {"energy_j", l.sim_energy_j},
                      {"estimate_energy_j", l.estimate_energy_j},
                      {"energy_ratio", ratio(l.sim_energy_j, l.estimate_energy_j)}});
  nlohmann::json result = {
      {"model", model},
      {"arch", arch.name},
      {"batch", s.batch},
      {"chips", s.chips},
      {"cores", s.cores},
      {"cycles", s.cycles},
      {"latency_s", s.latency_s},
      {"throughput_inf_per_s", s.throughput},
      {"energy_j", s.energy_j},
      {"dynamic_j", s.dynamic_j},
      {"leakage_j", s.leakage_j},
      {"instructions", s.instructions},
      {"messages", s.messages},
      {"events", s.events},
      {"wall_s", wall_s},
      {"events_per_s", wall_s > 0 ? static_cast<double>(s.events) / wall_s : 0.0},
      {"warnings", s.warnings},
      {"estimate",
       {{"latency_s", r.estimate.latency_s},
        {"interval_s", r.estimate.interval_s},
        {"throughput_inf_per_s", r.estimate.throughput},
        {"energy_j", r.estimate.energy_j},
        {"dynamic_j", r.estimate.dynamic_j}}},
      {"units", units},
      {"breakdown", {{"by_component", by_component}, {"by_layer", layers}}}};
  if (!trace_file.empty()) result["trace"] = {{"file", trace_file}, {"spans", spans}};
  return result;
}

nlohmann::json trees_eval_json(const TreeEvalResult& r, const ir::TreeEnsemble& ensemble,
                               const std::string& model, int64_t samples) {
  nlohmann::json result = {{"model", model},
                           {"objective", ir::objective_name(ensemble.objective)},
                           {"metric", tree_metric_name(ensemble)},
                           {"samples", samples},
                           {"in_bits", r.in_bits},
                           {"exact_quantisation", r.exact},
                           {"digital", r.digital},
                           {"acam", report::trial_summary_json(r.summary)}};
  result["acam"]["trials"] = r.per_trial;
  return result;
}

nlohmann::json trees_estimate_json(const TreeEstimateResult& r, const ir::TreeEnsemble& ensemble,
                                   const std::string& model, const arch::Architecture& arch) {
  const cost::TreeCost& c = r.cost;
  return {{"model", model},
          {"arch", arch.name},
          {"trees", ensemble.trees.size()},
          {"rows", c.rows},
          {"arrays", c.arrays},
          {"row_blocks", r.rows.row_blocks},
          {"col_blocks", r.rows.col_blocks},
          {"latency_s", c.latency_s},
          {"search_s", c.search_s},
          {"reduction_s", c.reduction_s},
          {"throughput_samples_per_s", c.throughput},
          {"energy_per_sample_j", c.energy_j},
          {"energy_breakdown_j",
           {{"data_line", c.energy_data_line_j},
            {"match_line", c.energy_match_line_j},
            {"source_line", c.energy_source_line_j},
            {"register", c.energy_register_j}}},
          {"area_m2", c.area_m2 > 0 ? nlohmann::json(c.area_m2) : nullptr}};
}

}  // namespace aimc::api
