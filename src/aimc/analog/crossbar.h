// The crossbar dot-product engine of ../shared/ANALOG_MODEL.md §1-2: y = x·W + b computed the
// way a chip of crossbar arrays does, for one chip instance (trial). Weights are quantised,
// sliced and programmed once (programming noise, stuck cells, drift); every forward() then
// quantises the inputs, applies them phase by phase and step by step, reads every array
// through the ADC and recombines the digits digitally.
//
// Speed: the steps, phases, slices and polarities of a layer are turned into a few large
// GEMMs (input digits stacked along M, slices/polarities along N) on OpenBLAS; the ADC is
// applied per read on their results.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/core/tensor.h"

namespace aimc::analog {

// Identifies the random streams of one layer of one chip instance (core/rng.h).
struct ChipKey {
  uint64_t seed = 0;
  uint64_t trial = 0;
  std::string node;  // the layer's node name
};

struct CrossbarStats {
  int64_t arrays = 0;  // physical arrays: row blocks x column blocks x slices x 2
  int64_t row_blocks = 0;
  int64_t col_blocks = 0;
  int64_t slices = 0;
  int64_t reads = 0;        // array reads so far (row block x phase x step x slice per row)
  int64_t adc_clipped = 0;  // ADC conversions that clipped so far
  int64_t adc_conversions = 0;
};

class CrossbarLayer {
 public:
  // weight: float32 [K, N] (y = x·W); bias: float32 [N] or an invalid Tensor. Programs the
  // arrays of chip instance `key` (programming noise, stuck cells and drift drawn here).
  CrossbarLayer(const arch::Architecture& arch, const Tensor& weight, const Tensor& bias,
                ChipKey key);

  // Calibration on representative inputs x: float32 [M, K] (from the calibration set): fixes
  // the static input scale (input.range: static), the ADC LSB (adc.range: calibrated) and the
  // drift compensation factors (global / per_column). May be called once, before forward();
  // a no-op for what the architecture does not calibrate.
  void calibrate(const Tensor& x);

  // x: float32 [M, K] -> y: float32 [M, N]. `first_row` is the global index of x's first row
  // in the whole evaluation (sample index x rows per sample): read and output noise are drawn
  // from counters keyed by it, so results do not depend on the batch size or thread count.
  Tensor forward(const Tensor& x, int64_t first_row);

  const CrossbarStats& stats() const { return stats_; }
  int64_t in_features() const;
  int64_t out_features() const;

  // The programmed arrays as the reads see them: (G+ - G-)/ΔG per slice, f64 [S, K, N]. It
  // equals the level difference m+ - m- when no device effect is configured. For tests and
  // inspection.
  Tensor effective_levels() const;
  // The ADC step in units of ΔG·V_dac_lsb (for adc.range: calibrated, known after calibrate()).
  double adc_lsb() const;
  // True when every read of a forward() is exact and unquantised (no noise, no IR drop, a
  // lossless ADC), so that the reads of a row block are summed in one product of x_q with the
  // recombined levels instead of one per phase, step and slice: the same result, faster.
  bool reads_merged() const;
  // Runs every read separately even where they could merge (tests, benchmarks).
  void disable_read_merging();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  CrossbarStats stats_;
};

// The exact integer reference of the noise-free, lossless engine: x_q · W_q per
// ANALOG_MODEL.md §1 with the same quantisation (dynamic per-row input scale, per-column or
// per-tensor weight scale), dequantised and biased. Tests compare the engine with it bit for
// bit; it is a plain loop, not fast.
Tensor crossbar_reference(const arch::Architecture& arch, const Tensor& weight, const Tensor& bias,
                          const Tensor& x);

}  // namespace aimc::analog
