// `aimc simulate` as a library call: the model compiled as `aimc estimate` maps it for the
// batch, its programs run by the cycle-level simulator (sim/simulator.h), and the cost
// model's estimate of the same mapping beside it, layer by layer (docs/simulate.md §4).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/compiler/mapping.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/ir/graph.h"
#include "aimc/isa/program.h"
#include "aimc/sim/simulator.h"

namespace aimc::api {

struct SimulateRequest {
  int64_t batch = 1;
  int64_t chips = 1;
  bool replicate = true;
  sim::TraceSink trace;  // every executed instruction and hop, when set
};

// One mapped layer, simulated and estimated, for the batch.
struct LayerComparison {
  std::string node;
  std::string op;
  compiler::LayerKind kind = compiler::LayerKind::kDigital;
  // The estimate's bottleneck: "analog" (crossbar reads, ACAM searches), "digital" (ALU) or
  // "network" (its output's transfers).
  std::string bound;
  double sim_latency_s = 0;  // its first issue to its last completion
  double estimate_latency_s = 0;
  double sim_energy_j = 0;  // dynamic, per inference
  double estimate_energy_j = 0;
};

struct SimulateResult {
  compiler::Mapping mapping;
  isa::ProgramSet programs;
  sim::SimResult sim;
  cost::NnCost estimate;
  std::vector<LayerComparison> layers;  // mapping order; layers with no instruction left out
};

// `graph` is the model for one inference (load_model_for_one_inference).
SimulateResult simulate(const ir::Graph& graph, const arch::Architecture& arch,
                        const SimulateRequest& request);

}  // namespace aimc::api
