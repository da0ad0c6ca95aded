// Tree-ensemble inference on analog CAM arrays (X-TIME; docs/trees.md). Every row of the
// compiled TreeRows is searched with the sample's input codes; the leaf values of the rows
// that match are summed per class digitally, then the objective's link function applies.
//
// Non-idealities (ANALOG_MODEL.md §3, in code units; R = 2^in_bits codes):
// - threshold noise, per chip instance: each active bound is stored in cells_per_threshold
//   cells of cell_bits; cell j (significance 2^(cell_bits*j), holding b_j bits) gets
//   N(0, (acam.threshold_sigma * 2^b_j)^2) levels, so the bound moves by
//   sum_j 2^(cell_bits*j) * noise_j codes (the top cell dominates, about threshold_sigma*R).
//   Streams: RngStream(seed, trial, "trees", "threshold"), index
//   ((row * num_feature + feature) * 2 + bound) * cells_per_threshold + cell.
// - input noise, per search: code + N(0, (acam.input_sigma * R)^2), stream
//   RngStream(seed, trial, "trees", "input") at index sample * num_feature + feature, where
//   `sample` is the sample's index in the whole data set, so results depend neither on the
//   batch size nor on the thread count.
// Missing inputs (NaN) do not drive the data line: a row matches them when its per-feature
// flag says the path takes the default direction for that feature (don't-care features
// always match).
#pragma once

#include <cstdint>
#include <vector>

#include "aimc/ir/tree_ensemble.h"

namespace aimc::analog {

struct AcamTreeNoise {
  double threshold_sigma = 0.0;  // fraction of the code range, per chip instance
  double input_sigma = 0.0;      // fraction of the code range, per search
};

class AcamTrees {
 public:
  // `rows` must outlive this object.
  AcamTrees(const ir::TreeRows& rows, AcamTreeNoise noise, uint64_t seed, uint64_t trial);

  // x: [samples, num_feature] row-major, NaN = missing; out: [samples, num_outputs].
  // Sample i is sample first_index + i of the data set (it keys the input noise).
  void predict(const float* x, int64_t samples, int64_t first_index, float* out) const;

  // Noise off: each tree matches exactly one row, found by descending the tree in code
  // space (fast). Tests turn this off to check the fast path against full row matching.
  void set_use_descent(bool use) { use_descent_ = use; }
  bool noise_free() const { return noise_.threshold_sigma == 0 && noise_.input_sigma == 0; }

  // Rows whose search matches one sample (full row matching), for tests and inspection.
  std::vector<int64_t> matched_rows(const float* x, int64_t sample_index) const;

 private:
  void input_codes(const float* x, int64_t sample_index, float* codes) const;
  void predict_one(const float* x, int64_t sample_index, float* out) const;
  // Noise-free fast path on a block of samples (x: [count, F], out: [count, outputs]).
  void predict_block_descent(const float* x, int64_t count, float* out) const;
  void build_flat_trees();

  // The code-space trees, flattened for a branch-free descent of several samples at once:
  // the right child of a node sits just after its left child; a leaf points to itself and
  // never goes right, so every tree is walked for exactly its depth.
  struct FlatNode {
    int32_t feature;       // leaves: 0
    int32_t code;          // go right when the code >= this; leaves: INT32_MAX
    int32_t left;          // leaves: itself
    int32_t missing_code;  // the code a missing value acts as: -1 (left) or INT32_MAX (right)
  };
  std::vector<FlatNode> flat_nodes_;
  std::vector<int32_t> flat_root_, flat_depth_;
  std::vector<int32_t> flat_row_;  // leaves: the row of the path, else -1

  const ir::TreeRows& rows_;
  AcamTreeNoise noise_;
  uint64_t seed_, trial_;
  bool use_descent_ = true;
  // Effective bounds of every interval after threshold noise (inactive: -inf / +inf).
  std::vector<float> lo_, hi_;
};

}  // namespace aimc::analog
