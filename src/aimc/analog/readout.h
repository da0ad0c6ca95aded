// NL-DPE's readout trees (docs/analog-model.md, "ADC-less readout"): with readout.mode acam, no ADC
// converts a crossbar read; each output column's analog value (its whole dot product: the reads of
// all input steps, phases, weight slices and polarities combined in the analog domain, plus the
// bias) is searched in that column's ACAM, which stores f over a range calibrated on data as a
// decision tree of readout.depth_<f> levels. The search returns f's quantised value directly:
// the identity for a plain layer, or the activation the layer is fused with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/analog/acam.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/tensor.h"

namespace aimc::analog {

// The columns' input ranges of a readout: [lo, hi] per column from the calibration values
// y [M, N] (float32): the readout.percentile central share of each column, widened when a
// column saw one value; for relu the tree keeps one leaf below 0 and spends the others on
// [0, hi], so that every negative input reads exactly 0. NaN and infinities are ignored.
std::vector<std::pair<double, double>> readout_ranges(const Tensor& y, AcamFunction f,
                                                      const arch::ReadoutConfig& config);

class ColumnReadout {
 public:
  // Programs one tree per column of f over the ranges calibrated on `calibration` [M, N] (the
  // layer's digital pre-activations), with this chip instance's threshold noise drawn from
  // (key.seed, key.trial, key.node + "/readout/<column>"). Error(kBadInput) naming `key.node`
  // when a column's tree needs more CAM rows than readout.rows_per_column.
  ColumnReadout(const arch::ReadoutConfig& config, AcamFunction f, const Tensor& calibration,
                const ChipKey& key);

  // y [M, N] float32 in place: y[r, j] = tree_j(y[r, j]); the input noise of a search is drawn
  // at counter (first_row + r) * N + j, so results do not depend on batch or threads.
  void apply(Tensor& y, int64_t first_row) const;

  int64_t columns() const { return static_cast<int64_t>(units_.size()); }
  const AcamUnit& unit(int64_t column) const { return units_[static_cast<size_t>(column)]; }
  int64_t rows() const;  // CAM rows of all the columns' trees
  AcamFunction function() const { return function_; }

 private:
  AcamFunction function_;
  std::vector<AcamUnit> units_;
};

}  // namespace aimc::analog
