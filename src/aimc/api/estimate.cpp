#include "aimc/api/estimate.h"

#include "aimc/compiler/codegen.h"
#include "aimc/core/error.h"

namespace aimc::api {

EstimateResult estimate(const ir::Graph& graph, const arch::Architecture& arch,
                        const EstimateRequest& request) {
  EstimateResult result;
  result.mapping = compiler::map_graph(
      graph, arch, cost::mapping_options(arch, request.batch, request.chips, request.replicate));
  result.cost = cost::estimate_nn(result.mapping, arch, request.batch);
  if (request.baseline) {
    const cost::GpuCost gpu = cost::estimate_gpu(result.mapping, *request.baseline, request.batch);
    const cost::NnCost& aimc = result.cost;
    GpuComparison& c = result.comparison;
    if (aimc.latency_s > 0) c.speedup = gpu.latency_s / aimc.latency_s;
    if (gpu.throughput > 0) c.throughput_ratio = aimc.throughput / gpu.throughput;
    if (aimc.energy_j > 0) c.energy_ratio = gpu.energy_j / aimc.energy_j;
    result.gpu = gpu;
  }
  return result;
}

CompileResult compile(const ir::Graph& graph, const arch::Architecture& arch, int64_t chips,
                      bool replicate, int64_t batch) {
  CompileResult result;
  // The mapping `aimc estimate` makes (replication balanced by the cost model's layer times).
  result.mapping =
      compiler::map_graph(graph, arch, cost::mapping_options(arch, batch, chips, replicate));
  result.programs = compiler::generate_programs(graph, result.mapping, arch);
  if (std::string problem = isa::verify(result.programs); !problem.empty())
    throw_runtime("internal error: the generated programs do not verify: {}", problem);
  return result;
}

}  // namespace aimc::api
