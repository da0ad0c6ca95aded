// aimc estimate MODEL --arch A.yaml [--batch B] [--chips N] [--set k=v ...] [--no-replicate]
//               [--baseline gpu|GPU.yaml] [--json] [--csv FILE]
// aimc estimate --peak --arch A.yaml [--json]
// Latency, throughput, energy and area of a model mapped onto the architecture, with
// breakdowns by component and by layer (docs/cost-model.md).
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "aimc/api/estimate.h"
#include "aimc/api/json.h"
#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/cost/gpu_baseline.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::cli {

namespace {

struct EstimateOptions {
  std::string model, arch, csv;
  std::string baseline;  // "gpu" (the built-in A100) or a GPU YAML file; "" none
  std::vector<std::string> overrides;
  int64_t batch = 1;
  int64_t chips = 1;
  bool peak = false;
  bool json = false;
  bool no_replicate = false;
};

// The GPU of --baseline: "gpu" is the built-in one (presets/gpu-a100.yaml), else a file.
cost::GpuSpec baseline_gpu(const std::string& baseline) {
  if (baseline == "gpu") return cost::bundled_gpu();
  return cost::load_gpu_spec(baseline);
}

int run_peak(const arch::Architecture& arch, const EstimateOptions& options) {
  cost::PeakPerformance peak = cost::estimate_peak(arch);
  if (options.json) {
    std::cout << api::peak_json(arch).dump(2) << "\n";
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

std::string layers_csv(const cost::NnCost& c) {
  std::string out =
      "node,op,kind,arrays,acam_units,cores,replicas,hops_per_transfer,latency_s,energy_j";
  for (const std::string& name : arch::component_names()) out += ",energy_" + name + "_j";
  out += "\n";
  for (const cost::LayerCost& l : c.by_layer) {
    out += fmt::format("{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g}", l.node, l.op,
                       compiler::layer_kind_name(l.kind), l.arrays, l.acam_units, l.cores,
                       l.replicas, l.hops_per_transfer, l.latency_s, l.energy_j);
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
  std::unique_ptr<ir::Graph> graph = api::load_model_for_one_inference(options.model);
  if (global.verbose)
    std::fprintf(stderr, "aimc: loaded %s (%zu nodes)\n", options.model.c_str(),
                 graph->nodes().size());
  // Read the GPU file before the work, so that a bad one fails fast.
  api::EstimateRequest request;
  request.batch = options.batch;
  request.chips = options.chips;
  request.replicate = !options.no_replicate;
  if (!options.baseline.empty()) request.baseline = baseline_gpu(options.baseline);
  const api::EstimateResult estimate = api::estimate(*graph, arch, request);
  const compiler::Mapping& mapping = estimate.mapping;
  const cost::NnCost& c = estimate.cost;
  const std::optional<cost::GpuCost>& gpu = estimate.gpu;
  const std::optional<cost::GpuSpec>& gpu_spec = request.baseline;
  if (!options.csv.empty()) write_file_atomic(options.csv, layers_csv(c));
  if (options.json) {
    std::cout << api::estimate_json(estimate, options.model, arch, request.baseline).dump(2)
              << "\n";
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
  fmt::print("  {:<22} {} added, {:.4g} element-hops / inference on the network\n", "replicas",
             mapping.replicas_added, compiler::element_hops(mapping));
  for (const std::string& warning : c.warnings) fmt::print("  warning: {}\n", warning);
  if (gpu) {
    const api::GpuComparison& ratio = estimate.comparison;
    fmt::print(
        "\n  baseline {} (roofline: {:.4g} TFLOP/s, {:.4g} GB/s, {:.4g} W TDP; {:.3g} us per "
        "launch, kernels >= {:.3g} us)\n",
        gpu_spec->name, gpu_spec->peak_flops / 1e12, gpu_spec->memory_bandwidth / 1e9,
        gpu_spec->tdp, gpu_spec->launch_overhead * 1e6, gpu_spec->min_kernel_time * 1e6);
    fmt::print("  {:<22} {:>12} {:>12} {:>10}\n", "", "aimc", "gpu", "aimc gain");
    fmt::print("  {:<22} {:>12.4g} {:>12.4g} {:>9.4g}x\n", "latency (batch) s", c.latency_s,
               gpu->latency_s, ratio.speedup);
    fmt::print("  {:<22} {:>12.4g} {:>12.4g} {:>9.4g}x\n", "throughput inf/s", c.throughput,
               gpu->throughput, ratio.throughput_ratio);
    fmt::print("  {:<22} {:>12.4g} {:>12.4g} {:>9.4g}x\n", "energy / inference J", c.energy_j,
               gpu->energy_j, ratio.energy_ratio);
  }
  fmt::print("\n  {:<14} {:>12} {:>12} {:>12} {:>8}\n", "component", "actions/inf", "energy J",
             "area mm^2", "energy%");
  for (const cost::ComponentTotal& t : c.by_component)
    fmt::print("  {:<14} {:>12.4g} {:>12.4g} {:>12.4g} {:>7.1f}%\n", t.component, t.actions,
               t.energy_j, t.area_m2 * 1e6, c.energy_j > 0 ? 100.0 * t.energy_j / c.energy_j : 0.0);
  size_t name_width = 5;  // the longest layer name, so that the columns stay aligned
  for (const cost::LayerCost& l : c.by_layer) name_width = std::max(name_width, l.node.size());
  fmt::print("\n  {:<{}} {:<12} {:<8} {:>7} {:>6} {:>8} {:>6} {:>12} {:>12}\n", "layer", name_width,
             "op", "kind", "arrays", "cores", "replicas", "hops", "latency s", "energy J");
  for (const cost::LayerCost& l : c.by_layer)
    fmt::print("  {:<{}} {:<12} {:<8} {:>7} {:>6} {:>8} {:>6.3g} {:>12.4g} {:>12.4g}\n", l.node,
               name_width, l.op, compiler::layer_kind_name(l.kind), l.arrays, l.cores, l.replicas,
               l.hops_per_transfer, l.latency_s, l.energy_j);
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
  app.add_flag("--no-replicate", options->no_replicate,
               "no copies of slow crossbar layers in the spare cores");
  app.add_option("--baseline", options->baseline,
                 "compare with a GPU roofline: gpu (NVIDIA A100 80GB SXM) or a GPU YAML file");
  app.add_flag("--json", options->json, "machine-readable output");
  app.add_option("--csv", options->csv, "write the per-layer breakdown as CSV");
  return [options, &global]() -> int { return run_estimate(*options, global); };
}

}  // namespace aimc::cli
