// The model -> programs -> simulated run of docs/simulate.md, next to the estimate.
#include "aimc/api/simulate.h"

#include <map>

#include "aimc/api/estimate.h"
#include "aimc/core/error.h"

namespace aimc::api {

SimulateResult simulate(const ir::Graph& graph, const arch::Architecture& arch,
                        const SimulateRequest& request) {
  if (request.batch < 1) throw_bad_input("--batch: {} must be >= 1", request.batch);
  SimulateResult result;
  CompileResult compiled = compile(graph, arch, request.chips, request.replicate, request.batch);
  result.mapping = std::move(compiled.mapping);
  result.programs = std::move(compiled.programs);
  sim::SimOptions options;
  options.batch = request.batch;
  options.trace = request.trace;
  result.sim = sim::simulate(result.programs, arch, options);
  result.estimate = cost::estimate_nn(result.mapping, arch, request.batch);
  std::map<std::string, const sim::LayerSim*> simulated;
  for (const sim::LayerSim& layer : result.sim.by_layer) simulated[layer.node] = &layer;
  for (const cost::LayerCost& estimated : result.estimate.by_layer) {
    auto it = simulated.find(estimated.node);
    if (it == simulated.end()) continue;
    LayerComparison c;
    c.node = estimated.node;
    c.op = estimated.op;
    c.kind = estimated.kind;
    c.bound = estimated.analog_s >= estimated.digital_s && estimated.analog_s >= estimated.network_s
                  ? "analog"
                  : (estimated.digital_s >= estimated.network_s ? "digital" : "network");
    c.sim_latency_s = it->second->latency_s;
    c.estimate_latency_s = estimated.latency_s;
    c.sim_energy_j = it->second->energy_j;
    c.estimate_energy_j = estimated.energy_j;
    result.layers.push_back(c);
  }
  return result;
}

}  // namespace aimc::api
