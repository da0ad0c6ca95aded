// Compiles a tree ensemble onto analog CAM arrays (X-TIME; docs/trees.md): one row per
// root-to-leaf path holding, per tested feature, an interval of input codes; the rows are
// packed onto arrays of acam_array.rows x acam_array.cols.
#pragma once

#include "aimc/arch/architecture.h"
#include "aimc/ir/tree_ensemble.h"

namespace aimc::compiler {

struct TreeCompileOptions {
  int in_bits = 8;    // input codes per feature: 2^in_bits
  int cell_bits = 4;  // bits per ACAM cell
  int rows_per_array = 256;
  int cols_per_array = 128;
};

// acam.in_bits and the acam_array section.
TreeCompileOptions tree_compile_options(const arch::Architecture& arch);

// Per-feature quantiser: the sorted distinct thresholds as cut points when they fit
// (distinct thresholds < 2^in_bits: exact), else 2^in_bits - 1 cut points spaced uniformly
// from the smallest to the largest threshold (decisions between close thresholds may flip).
ir::FeatureQuantizer make_quantizer(std::vector<float> thresholds, int in_bits);

ir::TreeRows compile_trees(const ir::TreeEnsemble& ensemble, const TreeCompileOptions& options);

}  // namespace aimc::compiler
