// aimc estimate MODEL --arch A.yaml [--batch B] [--chips N] [--set k=v ...] [--json] [--csv FILE]
// aimc estimate --peak --arch A.yaml [--json]
// Latency, throughput, energy and area of a model mapped onto the architecture, with
// breakdowns by component and by layer (docs/cost-model.md).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::cli {

namespace {

struct EstimateOptions {
  std::string model, arch, csv;
  std::vector<std::string> overrides;
  int64_t batch = 1;
  int64_t chips = 1;
  bool peak = false;
  bool json = false;
};

// The model for one inference: every symbolic dimension of the inputs (the batch) bound to 1
// before canonicalisation, so that shape computations fold and every layer's size is known.
std::unique_ptr<ir::Graph> load_model_for_one_inference(const std::string& path) {
  std::unique_ptr<ir::Graph> graph = frontend::load_onnx(path);
  std::map<std::string, int64_t> bindings;
  for (const ir::Value* input : graph->inputs)
    if (input->shape)
      for (const ir::Dim& dim : *input->shape)
        if (!dim.known() && !dim.symbol.empty()) bindings[dim.symbol] = 1;
  try {
    ir::infer_shapes(*graph, bindings);
    passes::canonicalize(*graph, runtime::evaluate_node);
  } catch (const Error& e) {
    rethrow_with_context(e, path);
  }
  return graph;
}

int run_peak(const arch::Architecture& arch, const EstimateOptions& options) {
  cost::PeakPerformance peak = cost::estimate_peak(arch);
  if (options.json) {
    nlohmann::json result = {{"arch", arch.name},
                             {"gops", peak.gops},
                             {"gops_per_mm2", peak.gops_per_mm2},
                             {"gops_per_w", peak.gops_per_w},
                             {"area_m2", peak.area_m2},
                             {"power_w", peak.power_w},
                             {"macs_per_s", peak.macs_per_s}};
    std::cout << result.dump(2) << "\n";
    return 0;
  }
  fmt::print("peak of one chip of {} ({}-bit inputs x {}-bit weights, 1 MAC = 2 ops)\n", arch.name,
             arch.input.in_bits, arch.weights.w_bits);
  fmt::print("  {:<14} {:.4g} GOPS\n", "throughput", peak.gops);
  fmt::print("  {:<14} {:.4g} mm^2\n", "area", peak.area_m2 * 1e6);
  fmt::print("  {:<14} {:.4g} W\n", "power", peak.power_w);
  fmt::print("  {:<14} {:.4g} GOPS/mm^2\n", "density", peak.gops_per_mm2);
  fmt::print("  {:<14} {:.4g} GOPS/W\n", "efficiency", peak.gops_per_w);
  return 0;
}

nlohmann::json cost_json(const cost::NnCost& c, const compiler::Mapping& mapping,
                         const EstimateOptions& options, const arch::Architecture& arch) {
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
                        {"latency_s", l.latency_s},
                        {"energy_j", l.energy_j},
                        {"actions", l.actions}});
  return {{"model", options.model},
          {"arch", arch.name},
          {"batch", c.batch},
          {"chips", c.chips},
          {"arrays", mapping.arrays_used},
          {"acam_units", mapping.acam_units_used},
          {"cores", mapping.cores_used},
          {"tiles", mapping.tiles_used},
          {"latency_s", c.latency_s},
          {"interval_s", c.interval_s},
          {"throughput_inf_per_s", c.throughput},
          {"energy_j", c.energy_j},
          {"dynamic_j", c.dynamic_j},
          {"leakage_j", c.leakage_j},
          {"area_m2", c.area_m2},
          {"power_w", c.power_w},
          {"breakdown", {{"by_component", by_component}, {"by_layer", by_layer}}}};
}

std::string layers_csv(const cost::NnCost& c) {
  std::string out = "node,op,kind,arrays,acam_units,cores,latency_s,energy_j";
  for (const std::string& name : arch::component_names()) out += ",energy_" + name + "_j";
  out += "\n";
  for (const cost::LayerCost& l : c.by_layer) {
    out += fmt::format("{},{},{},{},{},{},{:.6g},{:.6g}", l.node, l.op,
                       compiler::layer_kind_name(l.kind), l.arrays, l.acam_units, l.cores,
                       l.latency_s, l.energy_j);
    for (const std::string& name : arch::component_names())
      out += fmt::format(",{:.6g}", l.energy_by_component_j.at(name));
    out += "\n";
  }
  return out;
}

int run_estimate(const EstimateOptions& options, const GlobalOptions& global) {
  arch::Architecture arch = arch::load_architecture(options.arch, options.overrides);
  if (options.peak) {
    if (!options.model.empty()) throw_bad_input("--peak takes no MODEL");
    return run_peak(arch, options);
  }
  if (options.model.empty()) throw_bad_input("MODEL is required (or --peak)");
  std::unique_ptr<ir::Graph> graph = load_model_for_one_inference(options.model);
  if (global.verbose)
    std::fprintf(stderr, "aimc: loaded %s (%zu nodes)\n", options.model.c_str(),
                 graph->nodes().size());
  compiler::Mapping mapping = compiler::map_graph(*graph, arch, {options.chips});
  cost::NnCost c = cost::estimate_nn(mapping, arch, options.batch);
  if (!options.csv.empty()) write_file_atomic(options.csv, layers_csv(c));
  if (options.json) {
    std::cout << cost_json(c, mapping, options, arch).dump(2) << "\n";
    return 0;
  }
  fmt::print(
      "{} on {}: batch {}, {} chip(s), {} tiles, {} cores, {} crossbar arrays, {} ACAM "
      "units\n",
      options.model, arch.name, c.batch, c.chips, mapping.tiles_used, mapping.cores_used,
      mapping.arrays_used, mapping.acam_units_used);
  fmt::print("  {:<22} {:.4g} s\n", "latency (batch)", c.latency_s);
  fmt::print("  {:<22} {:.4g} inferences/s\n", "throughput", c.throughput);
  fmt::print("  {:<22} {:.4g} J (dynamic {:.4g}, leakage {:.4g})\n", "energy / inference",
             c.energy_j, c.dynamic_j, c.leakage_j);
  fmt::print("  {:<22} {:.4g} W\n", "power", c.power_w);
  fmt::print("  {:<22} {:.4g} mm^2\n", "area", c.area_m2 * 1e6);
  fmt::print("\n  {:<10} {:>12} {:>12} {:>12} {:>8}\n", "component", "actions/inf", "energy J",
             "area mm^2", "energy%");
  for (const cost::ComponentTotal& t : c.by_component)
    fmt::print("  {:<10} {:>12.4g} {:>12.4g} {:>12.4g} {:>7.1f}%\n", t.component, t.actions,
               t.energy_j, t.area_m2 * 1e6, c.energy_j > 0 ? 100.0 * t.energy_j / c.energy_j : 0.0);
  fmt::print("\n  {:<28} {:<12} {:<8} {:>7} {:>6} {:>12} {:>12}\n", "layer", "op", "kind", "arrays",
             "cores", "latency s", "energy J");
  for (const cost::LayerCost& l : c.by_layer)
    fmt::print("  {:<28} {:<12} {:<8} {:>7} {:>6} {:>12.4g} {:>12.4g}\n", l.node, l.op,
               compiler::layer_kind_name(l.kind), l.arrays, l.cores, l.latency_s, l.energy_j);
  return 0;
}

}  // namespace

Command add_estimate_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<EstimateOptions>();
  app.add_option("model", options->model, "ONNX model (omit with --peak)");
  app.add_option("--arch,-a", options->arch, "architecture YAML")->required();
  app.add_option("--batch,-b", options->batch, "inferences per batch (default 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--chips", options->chips, "chips the model may span (default 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--set", options->overrides, "override an architecture key: key.path=value");
  app.add_flag("--peak", options->peak, "peak GOPS, GOPS/mm^2 and GOPS/W of one chip");
  app.add_flag("--json", options->json, "machine-readable output");
  app.add_option("--csv", options->csv, "write the per-layer breakdown as CSV");
  return [options, &global]() -> int { return run_estimate(*options, global); };
}

}  // namespace aimc::cli
