// The code generator: one program per core of a mapping (compiler/mapping.h), scheduled
// layer by layer in graph order (docs/isa.md §5).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/compiler/mapping.h"
#include "aimc/ir/graph.h"
#include "aimc/isa/program.h"

namespace aimc::compiler {

// The mvm instructions a crossbar layer needs for one inference: one per input vector per
// (conv group, row block, column block) of its weight matrix. Replicas share the vectors, so
// they do not change it.
int64_t mvm_count(const LayerMapping& layer);
int64_t mvm_count(const Mapping& mapping);

// The function each ACAM unit of an ACAM layer holds, in unit order (its lowering's
// acam_functions: softmax {exp, reciprocal}, layer_norm {rsqrt}, log-domain matmul {log, exp},
// element-wise ops their function). Empty for other layers.
std::vector<std::string> acam_unit_functions(const LayerMapping& layer);

// One program per core in [0, max(1, mapping.cores_used)). `graph` is the graph the mapping
// was made from (the data flow between layers comes from it).
isa::ProgramSet generate_programs(const ir::Graph& graph, const Mapping& mapping,
                                  const arch::Architecture& arch);

// Bytes of one activation element on the chip: ceil(input.in_bits / 8).
int64_t activation_bytes(const arch::Architecture& arch);
// Bytes of one partial sum sent between the cores of a layer (int32, ASSUMPTION).
constexpr int64_t kPartialSumBytes = 4;

}  // namespace aimc::compiler
