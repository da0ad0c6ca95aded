// aimc simulate MODEL --arch A.yaml [--batch B] [--chips N] [--set k=v ...] [--no-replicate]
//               [--json] [--trace OUT.json]
// Compiles the model as `aimc compile` does (for the batch's mapping) and runs its programs
// on the cycle-level simulator (docs/simulate.md): latency, throughput, energy per executed
// action, unit utilisation, and each layer beside the cost model's estimate. --trace writes
// a Chrome trace (chrome://tracing, Perfetto) of every instruction and message hop.
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "aimc/api/json.h"
#include "aimc/api/simulate.h"
#include "aimc/cli/commands.h"
#include "aimc/core/error.h"
#include "aimc/sim/trace.h"

namespace aimc::cli {

namespace {

struct SimulateOptions {
  std::string model, arch, trace;
  std::vector<std::string> overrides;
  int64_t batch = 1;
  int64_t chips = 1;
  bool json = false;
  bool no_replicate = false;
};

double ratio(double a, double b) {
  return b > 0 ? a / b : 0.0;
}

void print_summary(const api::SimulateResult& r, const SimulateOptions& options,
                   const arch::Architecture& arch, double wall_s) {
  const sim::SimResult& s = r.sim;
  fmt::print("{} on {}: batch {}, {} chip(s), {} cores, {} instructions, {} messages\n",
             options.model, arch.name, s.batch, s.chips, s.cores, s.instructions, s.messages);
  fmt::print("  {:<22} {:>12} {:>12} {:>8}\n", "", "simulated", "estimate", "ratio");
  fmt::print("  {:<22} {:>12.4g} {:>12.4g} {:>8.3f}\n", "latency (batch) s", s.latency_s,
             r.estimate.latency_s, ratio(s.latency_s, r.estimate.latency_s));
  fmt::print("  {:<22} {:>12.4g} {:>12.4g} {:>8.3f}\n", "throughput inf/s", s.throughput,
             r.estimate.throughput, ratio(s.throughput, r.estimate.throughput));
  fmt::print("  {:<22} {:>12.4g} {:>12.4g} {:>8.3f}\n", "energy / inference J", s.energy_j,
             r.estimate.energy_j, ratio(s.energy_j, r.estimate.energy_j));
  fmt::print("  {} cycles, {} events in {:.3g} s ({:.3g} M events/s)\n", s.cycles, s.events, wall_s,
             wall_s > 0 ? static_cast<double>(s.events) / wall_s / 1e6 : 0.0);
  for (const std::string& warning : s.warnings) fmt::print("  warning: {}\n", warning);
  fmt::print("\n  {:<12} {:>10} {:>12} {:>12}\n", "unit", "instances", "busy s", "utilisation");
  for (const sim::UnitUtilisation& u : s.units)
    fmt::print("  {:<12} {:>10.4g} {:>12.4g} {:>11.1f}%\n", u.unit, u.instances, u.busy_s,
               100.0 * u.utilisation);
  size_t width = 5;
  for (const api::LayerComparison& l : r.layers) width = std::max(width, l.node.size());
  fmt::print("\n  {:<{}} {:<8} {:<8} {:>12} {:>12} {:>7} {:>12} {:>7}\n", "layer", width, "kind",
             "bound", "latency s", "estimate s", "ratio", "energy J", "ratio");
  for (const api::LayerComparison& l : r.layers)
    fmt::print("  {:<{}} {:<8} {:<8} {:>12.4g} {:>12.4g} {:>7.3f} {:>12.4g} {:>7.3f}\n", l.node,
               width, compiler::layer_kind_name(l.kind), l.bound, l.sim_latency_s,
               l.estimate_latency_s, ratio(l.sim_latency_s, l.estimate_latency_s), l.sim_energy_j,
               ratio(l.sim_energy_j, l.estimate_energy_j));
}

int run_simulate(const SimulateOptions& options, const GlobalOptions& global) {
  arch::Architecture arch = arch::load_architecture(options.arch, options.overrides);
  std::unique_ptr<ir::Graph> graph = api::load_model_for_one_inference(options.model);
  if (global.verbose)
    std::fprintf(stderr, "aimc: loaded %s (%zu nodes)\n", options.model.c_str(),
                 graph->nodes().size());
  api::SimulateRequest request;
  request.batch = options.batch;
  request.chips = options.chips;
  request.replicate = !options.no_replicate;
  std::optional<sim::ChromeTrace> trace;
  if (!options.trace.empty()) {
    trace.emplace(options.trace);
    request.trace = trace->sink();
  }
  const auto start = std::chrono::steady_clock::now();
  const api::SimulateResult result = api::simulate(*graph, arch, request);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t spans = 0;
  if (trace) {
    spans = trace->spans();
    trace->finish();
  }
  if (options.json)
    std::cout
        << api::simulate_json(result, options.model, arch, wall_s, options.trace, spans).dump(2)
        << "\n";
  else
    print_summary(result, options, arch, wall_s);
  return 0;
}

}  // namespace

Command add_simulate_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<SimulateOptions>();
  app.add_option("model", options->model, "ONNX model")->required();
  app.add_option("--arch,-a", options->arch, "architecture YAML")->required();
  app.add_option("--batch,-b", options->batch, "inferences run back to back (default 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--chips", options->chips, "chips the model may span (default 1)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--set", options->overrides, "override an architecture key: key.path=value");
  app.add_flag("--no-replicate", options->no_replicate,
               "no copies of slow crossbar layers in the spare cores");
  app.add_flag("--json", options->json, "machine-readable output");
  app.add_option("--trace", options->trace,
                 "write a Chrome trace JSON of every instruction and message hop");
  return [options, &global]() -> int { return run_simulate(*options, global); };
}

}  // namespace aimc::cli
