// Latency, throughput, energy and area of a tree ensemble on analog CAM arrays, from the
// X-TIME power model (HewlettPackard/X-TIME cycle_accurate/src/acam.cc; equations in
// docs/trees.md).
#pragma once

#include <cstdint>

#include "aimc/arch/architecture.h"
#include "aimc/ir/tree_ensemble.h"

namespace aimc::cost {

struct TreeCost {
  int64_t rows = 0;                 // ACAM rows used (root-to-leaf paths)
  int64_t arrays = 0;               // arrays used (row blocks x column blocks)
  double search_s = 0;              // one search of every array (they search in parallel)
  double reduction_s = 0;           // adder tree over the matched leaves, one cycle per level
  double latency_s = 0;             // search + reduction
  double throughput = 0;            // samples per second (one search per sample, pipelined)
  double energy_data_line_j = 0;    // per sample
  double energy_match_line_j = 0;   // per sample
  double energy_source_line_j = 0;  // per sample
  double energy_register_j = 0;     // per sample
  double energy_j = 0;              // per sample, the sum
  double area_m2 = 0;               // 0 when acam_array.cell_area is unknown (0)
};

TreeCost estimate_trees(const ir::TreeRows& rows, const arch::Architecture& arch);

}  // namespace aimc::cost
