#include "aimc/analog/acam_trees.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"

namespace aimc::analog {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The noise of one stored bound, in codes: the sum of its cells' noise by significance.
double bound_noise(const ir::TreeRows& rows, const RngStream& stream, uint64_t bound_index,
                   double threshold_sigma) {
  double noise = 0;
  const int cells = rows.cells_per_threshold;
  for (int cell = 0; cell < cells; ++cell) {
    int bits = std::min(rows.cell_bits, rows.in_bits - rows.cell_bits * cell);
    double sigma_levels = threshold_sigma * std::ldexp(1.0, bits);
    noise += std::ldexp(1.0, rows.cell_bits * cell) * sigma_levels *
             stream.normal(bound_index * cells + cell);
  }
  return noise;
}

}  // namespace

AcamTrees::AcamTrees(const ir::TreeRows& rows, AcamTreeNoise noise, uint64_t seed, uint64_t trial)
    : rows_(rows), noise_(noise), seed_(seed), trial_(trial) {
  lo_.resize(rows.intervals.size());
  hi_.resize(rows.intervals.size());
  RngStream stream(seed, trial, "trees", "threshold");
  for (int64_t r = 0; r < rows.rows(); ++r) {
    for (int64_t i = rows.row_begin[r]; i < rows.row_begin[r + 1]; ++i) {
      const ir::RowInterval& interval = rows.intervals[i];
      uint64_t base = (static_cast<uint64_t>(r) * rows.num_feature + interval.feature) * 2;
      double lo = interval.lo, hi = interval.hi;
      if (noise.threshold_sigma > 0) {
        lo += bound_noise(rows, stream, base, noise.threshold_sigma);
        hi += bound_noise(rows, stream, base + 1, noise.threshold_sigma);
      }
      lo_[i] = interval.lo_active ? static_cast<float>(lo) : -kInf;
      hi_[i] = interval.hi_active ? static_cast<float>(hi) : kInf;
    }
  }
  build_flat_trees();
}

void AcamTrees::build_flat_trees() {
  constexpr int32_t kNever = std::numeric_limits<int32_t>::max();
  for (const std::vector<ir::CodeNode>& tree : rows_.code_trees) {
    const int32_t root = static_cast<int32_t>(flat_nodes_.size());
    flat_root_.push_back(root);
    flat_nodes_.push_back({});
    flat_row_.push_back(-1);
    // (source node, flat slot, depth), breadth first.
    std::vector<std::array<int32_t, 3>> queue = {{0, root, 0}};
    int32_t depth = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      auto [source, slot, level] = queue[q];
      const ir::CodeNode& node = tree[source];
      depth = std::max(depth, level);
      if (node.feature < 0) {
        flat_nodes_[slot] = {0, kNever, slot, -1};
        flat_row_[slot] = node.row;
        continue;
      }
      const int32_t left = static_cast<int32_t>(flat_nodes_.size());
      flat_nodes_.resize(flat_nodes_.size() + 2);
      flat_row_.resize(flat_row_.size() + 2, -1);
      flat_nodes_[slot] = {node.feature, node.code, left, node.default_left ? -1 : kNever};
      queue.push_back({node.left, left, level + 1});
      queue.push_back({node.right, left + 1, level + 1});
    }
    flat_depth_.push_back(depth);
  }
}

void AcamTrees::input_codes(const float* x, int64_t sample_index, float* codes) const {
  const int32_t features = rows_.num_feature;
  RngStream stream(seed_, trial_, "trees", "input");
  const double sigma = noise_.input_sigma * std::ldexp(1.0, rows_.in_bits);
  for (int32_t f = 0; f < features; ++f) {
    if (std::isnan(x[f])) {
      codes[f] = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    double code = rows_.quantizers[f].code(x[f]);
    if (sigma > 0)
      code += sigma * stream.normal(static_cast<uint64_t>(sample_index) * features + f);
    codes[f] = static_cast<float>(code);
  }
}

std::vector<int64_t> AcamTrees::matched_rows(const float* x, int64_t sample_index) const {
  std::vector<float> codes(rows_.num_feature);
  input_codes(x, sample_index, codes.data());
  std::vector<int64_t> matched;
  for (int64_t r = 0; r < rows_.rows(); ++r) {
    bool match = true;
    for (int64_t i = rows_.row_begin[r]; i < rows_.row_begin[r + 1] && match; ++i) {
      float code = codes[rows_.intervals[i].feature];
      match = std::isnan(code) ? rows_.intervals[i].nan_matches : lo_[i] <= code && code < hi_[i];
    }
    if (match) matched.push_back(r);
  }
  return matched;
}

void AcamTrees::predict_one(const float* x, int64_t sample_index, float* out) const {
  const int32_t outputs = rows_.num_outputs;
  std::fill(out, out + outputs, rows_.base_margin);
  for (int64_t r : matched_rows(x, sample_index)) out[rows_.row_class[r]] += rows_.leaf[r];
  ir::apply_link(rows_.objective, out, outputs);
}

void AcamTrees::predict_block_descent(const float* x, int64_t count, float* out) const {
  constexpr int64_t kBlock = 32;
  constexpr int32_t kMissing = std::numeric_limits<int32_t>::min();
  AIMC_ASSERT(count <= kBlock, "block of {} samples", count);
  const int64_t features = rows_.num_feature, outputs = rows_.num_outputs;
  std::vector<int32_t> codes(kBlock * features);
  for (int64_t s = 0; s < count; ++s)
    for (int64_t f = 0; f < features; ++f) {
      float value = x[s * features + f];
      codes[s * features + f] = std::isnan(value) ? kMissing : rows_.quantizers[f].code(value);
    }
  for (int64_t s = 0; s < count; ++s)
    std::fill(out + s * outputs, out + (s + 1) * outputs, rows_.base_margin);
  int32_t at[kBlock];
  const FlatNode* nodes = flat_nodes_.data();
  for (size_t t = 0; t < flat_root_.size(); ++t) {
    for (int64_t s = 0; s < count; ++s) at[s] = flat_root_[t];
    for (int32_t level = 0; level < flat_depth_[t]; ++level) {
      for (int64_t s = 0; s < count; ++s) {
        const FlatNode& node = nodes[at[s]];
        int32_t code = codes[s * features + node.feature];
        code = code == kMissing ? node.missing_code : code;
        at[s] = node.left + (code >= node.code ? 1 : 0);
      }
    }
    for (int64_t s = 0; s < count; ++s) {
      int32_t row = flat_row_[at[s]];
      out[s * outputs + rows_.row_class[row]] += rows_.leaf[row];
    }
  }
  for (int64_t s = 0; s < count; ++s) ir::apply_link(rows_.objective, out + s * outputs, outputs);
}

void AcamTrees::predict(const float* x, int64_t samples, int64_t first_index, float* out) const {
  const int64_t features = rows_.num_feature, outputs = rows_.num_outputs;
  if (use_descent_ && noise_free()) {
    constexpr int64_t kBlock = 32;
    const int64_t blocks = (samples + kBlock - 1) / kBlock;
    parallel_for(0, blocks, 4, [&](int64_t b) {
      int64_t first = b * kBlock, count = std::min(kBlock, samples - first);
      predict_block_descent(x + first * features, count, out + first * outputs);
    });
    return;
  }
  parallel_for(0, samples, 16, [&](int64_t s) {
    predict_one(x + s * features, first_index + s, out + s * outputs);
  });
}

}  // namespace aimc::analog
