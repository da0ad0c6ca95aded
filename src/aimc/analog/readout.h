// NL-DPE's readout trees (docs/analog-model.md, "ADC-less readout"): with readout.mode acam, no ADC
// converts a crossbar read; each output column's analog value (its whole dot product: the reads of
// all input steps, phases, weight slices and polarities combined in the analog domain, plus the
// bias) is searched in that column's ACAM, which stores f over a range calibrated on data as a
// decision tree of readout.depth_<f> levels. The search returns f's quantised value directly:
// the identity for a plain layer, or the activation the layer is fused with.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aimc/analog/acam.h"
#include "aimc/analog/crossbar.h"
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

 private:
  std::vector<AcamUnit> units_;
};

// The crossbars of a readout layer compute with an ideal ADC: no read is converted, the reads
// of an output add up in the analog domain. `arch` with its ADC made ideal.
arch::Architecture analog_sum_architecture(const arch::Architecture& arch);

// One weight matrix W [K, N] (+ bias [N]) on crossbars read through readout trees, as the
// readout.linear / readout.conv engines and aimc.AnalogLinear program it: row blocks of
// array.rows rows, each a crossbar with an ideal ADC whose outputs its column trees read.
// One block: the trees compute f on the whole dot product. Several: each block's partial dot
// product is read through identity trees (f must be the identity) and the partial results
// are added digitally; the bias enters with the first block. Each block's crossbar and trees
// are calibrated on its columns of `calibration` [rows, K] (the layer's recorded inputs; the
// trees on their digital products). Noise streams: `key`, with "/block<b>" after the node for
// block b of several.
class ReadoutLayer {
 public:
  ReadoutLayer(const arch::Architecture& arch, const Tensor& weight, const Tensor& bias,
               const Tensor& calibration, AcamFunction f, const ChipKey& key);

  // x [M, K] -> [M, N]: f of each output as the trees read it, noise keyed by `first_row` as
  // in CrossbarLayer::forward. With `read` false (one row block only), the analog values the
  // trees would search, for read() later.
  Tensor forward(const Tensor& x, int64_t first_row, bool read = true);
  // The trees' search of analog values y [M, N] (one row block), in place.
  void read(Tensor& y, int64_t first_row) const;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  int64_t arrays() const;    // crossbar arrays of all the blocks
  int64_t cam_rows() const;  // CAM rows of all the blocks' trees

 private:
  struct Block {
    int64_t first = 0, count = 0;  // its rows of the weight
    std::shared_ptr<CrossbarLayer> crossbar;
    std::shared_ptr<ColumnReadout> readout;
  };
  int64_t in_features_ = 0, out_features_ = 0;
  std::vector<Block> blocks_;
};

}  // namespace aimc::analog
