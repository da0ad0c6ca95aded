#include "aimc/analog/acam_trees.h"

#include <algorithm>
#include <array>
#include <bit>
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

// Sorted values padded with NaN to a power of two of at least size + 1 entries, for
// count_not_greater (a NaN is never <= x).
std::vector<float> pad_with_nan(const std::vector<float>& sorted) {
  size_t padded = 1;
  while (padded < sorted.size() + 1) padded *= 2;
  std::vector<float> out(padded, std::numeric_limits<float>::quiet_NaN());
  std::copy(sorted.begin(), sorted.end(), out.begin());
  return out;
}

// Number of values <= x in a pad_with_nan table of `padded` entries: a binary search of
// fixed length without branches (the comparisons are unpredictable).
inline int64_t count_not_greater(const float* sorted, size_t padded, float x) {
  size_t count = 0;
  for (size_t half = padded / 2; half > 0; half /= 2)
    count += sorted[count + half - 1] <= x ? half : 0;
  return static_cast<int64_t>(count);
}

__attribute__((target_clones("avx2", "default"))) void and_into(uint64_t* __restrict match,
                                                                const uint64_t* __restrict rows,
                                                                int64_t words) {
  for (int64_t w = 0; w < words; ++w) match[w] &= rows[w];
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
  build_descent();
  if (!noise_free()) build_segments();
}

void AcamTrees::set_segment_spacing(int64_t spacing) {
  AIMC_ASSERT(spacing >= 1 && std::has_single_bit(static_cast<uint64_t>(spacing)),
              "segment spacing {} is not a power of two", spacing);
  min_spacing_ = spacing;
  if (!segments_.empty()) build_segments();
}

void AcamTrees::set_search(AcamTreeSearch search) {
  search_ = search;
  if (search == AcamTreeSearch::kSegments && segments_.empty()) build_segments();
}

void AcamTrees::build_descent() {
  AIMC_ASSERT(rows_.num_feature >= 0 && rows_.num_feature < (1 << 26), "{} features",
              rows_.num_feature);
  const uint32_t features = static_cast<uint32_t>(rows_.num_feature);
  // Slot 2F of the codes is always 0: a leaf tests it against UINT32_MAX and stays put.
  // Slots are stored times kLanes (the codes of a group of lanes are interleaved).
  const uint32_t never_slot = 2 * features * kLanes;
  constexpr uint32_t kNever = std::numeric_limits<uint32_t>::max();
  for (const std::vector<ir::CodeNode>& tree : rows_.code_trees) {
    const int32_t root = static_cast<int32_t>(descent_nodes_.size());
    descent_root_.push_back(root);
    descent_nodes_.push_back({});
    descent_leaf_.push_back(0);
    // (source node, flat slot, depth), breadth first.
    std::vector<std::array<int32_t, 3>> queue = {{0, root, 0}};
    int32_t depth = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      auto [source, slot, level] = queue[q];
      const ir::CodeNode& node = tree[source];
      depth = std::max(depth, level);
      if (node.feature < 0) {
        descent_nodes_[slot] = {kNever, never_slot, slot};
        descent_leaf_[slot] = rows_.leaf[node.row];
        continue;
      }
      const int32_t left = static_cast<int32_t>(descent_nodes_.size());
      descent_nodes_.resize(descent_nodes_.size() + 2);
      descent_leaf_.resize(descent_leaf_.size() + 2, 0);
      const uint32_t feature = static_cast<uint32_t>(node.feature);
      const uint32_t code = static_cast<uint32_t>(node.code);
      descent_nodes_[slot] = node.default_left
                                 ? DescentNode{code + 1, (features + feature) * kLanes, left}
                                 : DescentNode{code, feature * kLanes, left};
      queue.push_back({node.left, left, level + 1});
      queue.push_back({node.right, left + 1, level + 1});
    }
    descent_depth_.push_back(depth);
    int32_t leaf = 0;  // any leaf: every row of a tree has the tree's class
    while (tree[leaf].feature >= 0) leaf = tree[leaf].left;
    descent_class_.push_back(rows_.row_class[tree[leaf].row]);
  }
  for (const ir::FeatureQuantizer& quantizer : rows_.quantizers)
    padded_cuts_.push_back(pad_with_nan(quantizer.cuts));
}

void AcamTrees::build_segments() {
  const int64_t row_count = rows_.rows(), features = rows_.num_feature;
  words_ = (row_count + 63) / 64;
  integer_codes_ = noise_.input_sigma == 0;
  segments_.assign(features, {});
  spacing_ = min_spacing_;
  // Per feature, the intervals that test it.
  std::vector<std::vector<int64_t>> by_feature(features);
  std::vector<int32_t> interval_row(rows_.intervals.size());
  for (int64_t r = 0; r < row_count; ++r)
    for (int64_t i = rows_.row_begin[r]; i < rows_.row_begin[r + 1]; ++i) {
      const int32_t feature = rows_.intervals[i].feature;
      AIMC_ASSERT(feature >= 0 && feature < features, "row {}: feature {} out of range", r,
                  feature);
      AIMC_ASSERT(i == rows_.row_begin[r] || rows_.intervals[i - 1].feature < feature,
                  "row {}: features not strictly ascending", r);
      by_feature[feature].push_back(i);
      interval_row[i] = static_cast<int32_t>(r);
    }
  // A stored bound as the segments see it (integer codes: rounded up, clamped).
  auto effective = [&](int64_t feature, float bound) {
    if (!integer_codes_) return bound;
    const float past_last = static_cast<float>(rows_.quantizers[feature].cuts.size() + 1);
    return std::clamp(std::ceil(bound), 0.0f, past_last);
  };
  std::vector<std::vector<float>> bounds(features);
  for (int64_t f = 0; f < features; ++f) {
    for (int64_t i : by_feature[f]) {
      if (rows_.intervals[i].lo_active) bounds[f].push_back(effective(f, lo_[i]));
      if (rows_.intervals[i].hi_active) bounds[f].push_back(effective(f, hi_[i]));
    }
    std::sort(bounds[f].begin(), bounds[f].end());
    bounds[f].erase(std::unique(bounds[f].begin(), bounds[f].end()), bounds[f].end());
  }
  // Checkpoints cost words_ words each: space them so that they stay within a budget.
  constexpr int64_t kCheckpointBudgetWords = int64_t{2} << 20;  // 16 MiB
  auto checkpoint_words = [&] {
    int64_t total = 0;
    for (int64_t f = 0; f < features; ++f)
      if (!by_feature[f].empty())
        total += (static_cast<int64_t>(bounds[f].size()) / spacing_ + 1) * words_;
    return total;
  };
  while (checkpoint_words() > kCheckpointBudgetWords && spacing_ < (int64_t{1} << 30))
    spacing_ *= 2;

  for (int64_t f = 0; f < features; ++f) {
    FeatureSegments& segments = segments_[f];
    segments.tested = !by_feature[f].empty();
    if (!segments.tested) continue;
    const std::vector<float>& sorted = bounds[f];
    const int64_t bound_count = static_cast<int64_t>(sorted.size());
    auto index_of = [&](float bound) {
      return std::lower_bound(sorted.begin(), sorted.end(), effective(f, bound)) - sorted.begin();
    };
    // A row matches segment s when lo_index < s <= hi_index (inactive bounds: -1, count), so
    // its bit toggles on crossing bounds[lo_index] and bounds[hi_index].
    std::vector<uint64_t> current(words_, ~uint64_t{0});
    segments.missing.assign(words_, ~uint64_t{0});
    std::vector<std::pair<int64_t, int32_t>> flips;  // (bound index, row)
    for (int64_t i : by_feature[f]) {
      const ir::RowInterval& interval = rows_.intervals[i];
      const int32_t row = interval_row[i];
      const uint64_t bit = uint64_t{1} << (row % 64);
      if (!interval.nan_matches) segments.missing[row / 64] &= ~bit;
      const int64_t lo_index = interval.lo_active ? index_of(lo_[i]) : -1;
      const int64_t hi_index = interval.hi_active ? index_of(hi_[i]) : bound_count;
      // Segment 0 lies below every bound: it matches when the lower bound is inactive.
      if (lo_index >= 0) current[row / 64] &= ~bit;
      if (lo_index >= hi_index) continue;
      if (lo_index >= 0) flips.push_back({lo_index, row});
      if (hi_index < bound_count) flips.push_back({hi_index, row});
    }
    std::sort(flips.begin(), flips.end());
    segments.flip_begin.assign(bound_count + 1, 0);
    for (const auto& flip : flips) ++segments.flip_begin[flip.first + 1];
    for (int64_t j = 0; j < bound_count; ++j) segments.flip_begin[j + 1] += segments.flip_begin[j];
    for (const auto& flip : flips) segments.flip_rows.push_back(flip.second);
    for (int64_t s = 0; s <= bound_count; ++s) {
      if (s % spacing_ == 0)
        segments.checkpoints.insert(segments.checkpoints.end(), current.begin(), current.end());
      if (s == bound_count) break;
      for (int64_t k = segments.flip_begin[s]; k < segments.flip_begin[s + 1]; ++k) {
        const int32_t row = segments.flip_rows[k];
        current[row / 64] ^= uint64_t{1} << (row % 64);
      }
    }
    segments.bounds = pad_with_nan(sorted);
    if (integer_codes_) {
      const int64_t codes = static_cast<int64_t>(rows_.quantizers[f].cuts.size()) + 1;
      for (int64_t c = 0; c < codes; ++c)
        segments.code_segment.push_back(static_cast<int32_t>(count_not_greater(
            segments.bounds.data(), segments.bounds.size(), static_cast<float>(c))));
    }
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

void AcamTrees::predict_one_rows(const float* x, int64_t sample_index, float* out) const {
  const int32_t outputs = rows_.num_outputs;
  std::fill(out, out + outputs, rows_.base_margin);
  for (int64_t r : matched_rows(x, sample_index)) out[rows_.row_class[r]] += rows_.leaf[r];
  ir::apply_link(rows_.objective, out, outputs);
}

const uint64_t* AcamTrees::segment_rows(const FeatureSegments& segments, int64_t segment,
                                        uint64_t* scratch) const {
  const int64_t checkpoint = segment / spacing_;
  const uint64_t* saved = segments.checkpoints.data() + checkpoint * words_;
  const int64_t first_flip = segments.flip_begin[checkpoint * spacing_];
  const int64_t last_flip = segments.flip_begin[segment];
  if (first_flip == last_flip) return saved;
  std::copy(saved, saved + words_, scratch);
  for (int64_t k = first_flip; k < last_flip; ++k) {
    const int32_t row = segments.flip_rows[k];
    scratch[row / 64] ^= uint64_t{1} << (row % 64);
  }
  return scratch;
}

void AcamTrees::predict_range_segments(const float* x, int64_t first, int64_t last,
                                       int64_t first_index, float* out) const {
  const int64_t features = rows_.num_feature, outputs = rows_.num_outputs, words = words_;
  std::vector<float> codes(features);
  std::vector<uint64_t> match(words), scratch(words);
  for (int64_t s = first; s < last; ++s) {
    const float* sample = x + s * features;
    if (!integer_codes_) input_codes(sample, first_index + s, codes.data());
    std::fill(match.begin(), match.end(), ~uint64_t{0});
    if (rows_.rows() % 64) match[words - 1] = (uint64_t{1} << (rows_.rows() % 64)) - 1;
    for (int64_t f = 0; f < features; ++f) {
      const FeatureSegments& segments = segments_[f];
      if (!segments.tested) continue;
      // Integer codes: the quantiser's code (as input_codes without noise) indexes a table.
      const float value = integer_codes_ ? sample[f] : codes[f];
      const uint64_t* rows;
      if (std::isnan(value)) {
        rows = segments.missing.data();
      } else if (integer_codes_) {
        const std::vector<float>& cuts = padded_cuts_[f];
        const int64_t code = count_not_greater(cuts.data(), cuts.size(), value);
        rows = segment_rows(segments, segments.code_segment[code], scratch.data());
      } else {
        const int64_t segment =
            count_not_greater(segments.bounds.data(), segments.bounds.size(), value);
        rows = segment_rows(segments, segment, scratch.data());
      }
      and_into(match.data(), rows, words);
    }
    float* margins = out + s * outputs;
    std::fill(margins, margins + outputs, rows_.base_margin);
    // Rows in ascending order, as row matching adds them.
    for (int64_t w = 0; w < words; ++w)
      for (uint64_t bits = match[w]; bits != 0; bits &= bits - 1) {
        const int64_t row = w * 64 + std::countr_zero(bits);
        margins[rows_.row_class[row]] += rows_.leaf[row];
      }
    ir::apply_link(rows_.objective, margins, static_cast<int32_t>(outputs));
  }
}

void AcamTrees::predict_block_descent(const float* x, int64_t count, uint32_t* codes,
                                      float* margins, float* out) const {
  AIMC_ASSERT(count <= kDescentBlock, "block of {} samples", count);
  const int64_t features = rows_.num_feature, outputs = rows_.num_outputs;
  const int64_t stride = 2 * features + 1;
  // Whole groups of lanes descend; the samples past `count` descend on zero codes and are
  // dropped.
  const int64_t padded_count = (count + kLanes - 1) / kLanes * kLanes;
  constexpr uint32_t kMissingRight = std::numeric_limits<uint32_t>::max();
  // codes[(group * stride + slot) * kLanes + lane] for sample group * kLanes + lane: a
  // lane's code sits at a constant offset from its group's.
  std::fill(codes, codes + padded_count * stride, 0u);
  // Feature by feature, kLanes samples' binary searches interleaved (each alone is a chain
  // of dependent loads).
  for (int64_t f = 0; f < features; ++f) {
    const float* cuts = padded_cuts_[f].data();
    const size_t padded = padded_cuts_[f].size();
    for (int64_t first = 0; first < count; first += kLanes) {
      float value[kLanes];
      size_t code[kLanes];
      for (int lane = 0; lane < kLanes; ++lane) {
        const int64_t s = std::min(first + lane, count - 1);
        value[lane] = x[s * features + f];
        code[lane] = 0;
      }
      for (size_t half = padded / 2; half > 0; half /= 2)
#pragma GCC unroll 8
        for (int lane = 0; lane < kLanes; ++lane)
          code[lane] += cuts[code[lane] + half - 1] <= value[lane] ? half : 0;
      uint32_t* group_codes = codes + first * stride;
      for (int lane = 0; lane < kLanes && first + lane < count; ++lane) {
        const bool missing = std::isnan(value[lane]);
        group_codes[f * kLanes + lane] =
            missing ? kMissingRight : static_cast<uint32_t>(code[lane]);
        group_codes[(features + f) * kLanes + lane] =
            missing ? 0 : static_cast<uint32_t>(code[lane]) + 1;
      }
    }
  }
  std::fill(margins, margins + padded_count * outputs, rows_.base_margin);
  const DescentNode* nodes = descent_nodes_.data();
  for (int64_t first = 0; first < padded_count; first += kLanes) {
    const uint32_t* group_codes = codes + first * stride;
    float* lane_margins = margins + first * outputs;
    for (size_t t = 0; t < descent_root_.size(); ++t) {
      // kLanes independent chains of dependent loads, interleaved.
      int32_t at[kLanes];
      for (int lane = 0; lane < kLanes; ++lane) at[lane] = descent_root_[t];
      for (int32_t level = 0; level < descent_depth_[t]; ++level)
#pragma GCC unroll 8
        for (int lane = 0; lane < kLanes; ++lane) {
          const DescentNode& node = nodes[at[lane]];
          at[lane] = node.left + (group_codes[node.slot + lane] >= node.threshold ? 1 : 0);
        }
      const int64_t output = descent_class_[t];
      for (int lane = 0; lane < kLanes; ++lane)
        lane_margins[lane * outputs + output] += descent_leaf_[at[lane]];
    }
  }
  std::copy(margins, margins + count * outputs, out);
  for (int64_t s = 0; s < count; ++s) ir::apply_link(rows_.objective, out + s * outputs, outputs);
}

void AcamTrees::predict(const float* x, int64_t samples, int64_t first_index, float* out) const {
  const int64_t features = rows_.num_feature, outputs = rows_.num_outputs;
  AcamTreeSearch search = search_;
  if (search == AcamTreeSearch::kAuto)
    search = noise_free() ? AcamTreeSearch::kDescent : AcamTreeSearch::kSegments;
  if (search == AcamTreeSearch::kDescent && !noise_free()) search = AcamTreeSearch::kSegments;
  switch (search) {
    case AcamTreeSearch::kDescent: {
      const int64_t blocks = (samples + kDescentBlock - 1) / kDescentBlock;
      parallel_for_ranges(0, blocks, 4, [&](int64_t first_block, int64_t last_block) {
        std::vector<uint32_t> codes(kDescentBlock * (2 * features + 1));
        std::vector<float> margins(kDescentBlock * outputs);
        for (int64_t b = first_block; b < last_block; ++b) {
          const int64_t first = b * kDescentBlock, count = std::min(kDescentBlock, samples - first);
          predict_block_descent(x + first * features, count, codes.data(), margins.data(),
                                out + first * outputs);
        }
      });
      return;
    }
    case AcamTreeSearch::kSegments:
      parallel_for_ranges(0, samples, 16, [&](int64_t first, int64_t last) {
        predict_range_segments(x, first, last, first_index, out);
      });
      return;
    case AcamTreeSearch::kAuto:
    case AcamTreeSearch::kRows:
      parallel_for(0, samples, 16, [&](int64_t s) {
        predict_one_rows(x + s * features, first_index + s, out + s * outputs);
      });
      return;
  }
}

}  // namespace aimc::analog
