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
//
// Three searches give the same matches (tested against each other):
// - kRows: every row's intervals tested one by one (the reference, slow);
// - kSegments: the bounds are fixed per chip instance, so per feature the sorted stored
//   bounds cut the code axis into segments on which every row's test is constant; a sample's
//   matching rows are the AND over features of its segments' row bitsets (any noise);
// - kDescent: noise off, each tree matches exactly one row, found by descending the tree in
//   code space (fastest).
#pragma once

#include <cstdint>
#include <vector>

#include "aimc/ir/tree_ensemble.h"

namespace aimc::analog {

struct AcamTreeNoise {
  double threshold_sigma = 0.0;  // fraction of the code range, per chip instance
  double input_sigma = 0.0;      // fraction of the code range, per search
};

enum class AcamTreeSearch {
  kAuto,      // kDescent when noise is off, else kSegments
  kDescent,   // noise off only (falls back to kSegments with noise)
  kSegments,  // per-feature segment bitsets
  kRows,      // row by row (reference)
};

class AcamTrees {
 public:
  // `rows` must outlive this object.
  AcamTrees(const ir::TreeRows& rows, AcamTreeNoise noise, uint64_t seed, uint64_t trial);

  // x: [samples, num_feature] row-major, NaN = missing; out: [samples, num_outputs].
  // Sample i is sample first_index + i of the data set (it keys the input noise).
  void predict(const float* x, int64_t samples, int64_t first_index, float* out) const;

  // Tests pick the search to check the fast ones against row matching.
  void set_search(AcamTreeSearch search);
  // Segments: a checkpoint every `spacing` (a power of two) segments or more, as memory
  // allows (default 1). Tests use it to exercise the toggled rows between checkpoints.
  void set_segment_spacing(int64_t spacing);
  bool noise_free() const { return noise_.threshold_sigma == 0 && noise_.input_sigma == 0; }

  // Rows whose search matches one sample (row by row), for tests and inspection.
  std::vector<int64_t> matched_rows(const float* x, int64_t sample_index) const;

 private:
  void input_codes(const float* x, int64_t sample_index, float* codes) const;
  void predict_one_rows(const float* x, int64_t sample_index, float* out) const;
  // Samples [first, last) of x (sample s is first_index + s of the data set) by segment
  // bitsets; out: [samples, outputs].
  void predict_range_segments(const float* x, int64_t first, int64_t last, int64_t first_index,
                              float* out) const;
  // x: [count, F]; codes: [kDescentBlock, 2F + 1] and margins: [kDescentBlock, outputs]
  // scratch; out: [count, outputs].
  void predict_block_descent(const float* x, int64_t count, uint32_t* codes, float* margins,
                             float* out) const;
  void build_descent();
  void build_segments();

  // --- kDescent ---
  // Input codes of a sample, twice: codes[f] = code (missing: UINT32_MAX) and
  // codes[F + f] = code + 1 (missing: 0). A node that sends missing values right tests
  // codes[f] >= code, one that sends them left codes[F + f] >= code + 1 (unsigned): one
  // comparison, whatever the input.
  struct DescentNode {
    uint32_t threshold;  // go right when codes[slot] >= threshold; leaves: never
    uint32_t slot;       // times kLanes
    int32_t left;        // the right child follows it; leaves: themselves
  };
  std::vector<DescentNode> descent_nodes_;
  std::vector<float> descent_leaf_;  // [nodes]: the leaf value (leaves only)
  std::vector<int32_t> descent_root_, descent_depth_, descent_class_;  // [trees]
  static constexpr int64_t kDescentBlock = 64;                         // samples quantised together
  static constexpr int kLanes = 8;  // samples descending together
  // Per feature the quantiser's cut points padded with NaN to a power of two (a NaN cut is
  // never <= x), for a binary search of fixed length.
  std::vector<std::vector<float>> padded_cuts_;

  // --- kSegments ---
  // Per feature: `bounds` are the distinct stored bounds (lo_ / hi_ of the intervals on the
  // feature) in ascending order; a code c lies in segment s = number of bounds <= c. The
  // row bitset of segment s is checkpoint[s / spacing] with the rows of flips[j] toggled for
  // j in [s / spacing * spacing, s): crossing bounds[j] toggles the rows whose interval
  // starts or ends there. Rows that do not test the feature are always set.
  // Without input noise the codes are integers in [0, cuts], and b <= c exactly when
  // ceil(b) <= c, so the bounds are rounded up (and clamped to [0, cuts + 1]): at most
  // cuts + 2 of them, and a table gives the segment of each code.
  struct FeatureSegments {
    std::vector<float> bounds;          // B distinct bounds, padded with NaN to a power of two
    std::vector<int32_t> code_segment;  // integer codes: [cuts + 1]
    std::vector<uint64_t> checkpoints;  // [B / spacing + 1][words]
    std::vector<int64_t> flip_begin;    // [B + 1]
    std::vector<int32_t> flip_rows;
    std::vector<uint64_t> missing;  // [words]: rows that match a missing value
    bool tested = false;            // some row tests the feature
  };
  // The rows of segment `segment` of `feature`: a checkpoint, or `scratch` with the flips
  // applied to a checkpoint.
  const uint64_t* segment_rows(const FeatureSegments& segments, int64_t segment,
                               uint64_t* scratch) const;
  std::vector<FeatureSegments> segments_;
  bool integer_codes_ = true;  // input noise off: segments looked up per code
  int64_t words_ = 0;          // 64-bit words of a row bitset
  int64_t min_spacing_ = 1;
  int64_t spacing_ = 1;  // segments between checkpoints (a power of two)

  const ir::TreeRows& rows_;
  AcamTreeNoise noise_;
  uint64_t seed_, trial_;
  AcamTreeSearch search_ = AcamTreeSearch::kAuto;
  // Effective bounds of every interval after threshold noise (inactive: -inf / +inf).
  std::vector<float> lo_, hi_;
};

}  // namespace aimc::analog
