// `aimc estimate` and `aimc compile` as library calls: the mapping of a model onto an
// architecture, its cost (optionally against a GPU roofline), and the per-core programs.
#pragma once

#include <cstdint>
#include <optional>

#include "aimc/arch/architecture.h"
#include "aimc/compiler/mapping.h"
#include "aimc/cost/gpu_baseline.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/ir/graph.h"
#include "aimc/isa/program.h"

namespace aimc::api {

struct EstimateRequest {
  int64_t batch = 1;
  int64_t chips = 1;
  bool replicate = true;                  // copies of the slowest layers in spare cores
  std::optional<cost::GpuSpec> baseline;  // a GPU to compare with
};

// AIMC against the GPU: > 1 means AIMC is better (faster, more throughput, less energy).
struct GpuComparison {
  double speedup = 0;           // GPU latency / AIMC latency
  double throughput_ratio = 0;  // AIMC throughput / GPU throughput
  double energy_ratio = 0;      // GPU energy / AIMC energy, per inference
};

struct EstimateResult {
  compiler::Mapping mapping;
  cost::NnCost cost;
  std::optional<cost::GpuCost> gpu;  // with a baseline
  GpuComparison comparison;
};

// `graph` is the model for one inference (load_model_for_one_inference).
EstimateResult estimate(const ir::Graph& graph, const arch::Architecture& arch,
                        const EstimateRequest& request);

struct CompileResult {
  compiler::Mapping mapping;  // the one `estimate` makes for the batch
  isa::ProgramSet programs;   // verified (isa::verify)
};
// `batch` sets the mapping's replication (as `aimc estimate --batch` balances it); the
// programs are for one inference.
CompileResult compile(const ir::Graph& graph, const arch::Architecture& arch, int64_t chips,
                      bool replicate, int64_t batch = 1);

}  // namespace aimc::api
