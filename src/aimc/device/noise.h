// Device and circuit non-idealities of ../shared/ANALOG_MODEL.md §2, one small interface per
// concept with named implementations picked from the architecture YAML (ramulator2 style).
// Every model is a pure function of its parameters and of the random numbers it is handed:
// the engine (analog/crossbar.cpp) draws those from counter-based streams, so a model never
// holds random state. Noise models take and return conductances relative to g_max (the
// YAML's sigmas are fractions of g_max), so they do not depend on the array's scale.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"

namespace aimc::device {

// Programming noise (per cell, per chip instance): G <- G + N(0, sigma(G)).
class ProgrammingNoise {
 public:
  virtual ~ProgrammingNoise() = default;
  // Standard deviation / g_max for a cell programmed to conductance / g_max.
  virtual double sigma(double conductance) const = 0;
};

// Conductance drift G(t) = G * (t / t0)^(-nu), nu drawn per cell.
class Drift {
 public:
  virtual ~Drift() = default;
  // The cell's drift exponent from a standard normal draw.
  virtual double exponent(double standard_normal) const = 0;
  // The factor G(t_inference) / G for a cell of exponent nu.
  virtual double factor(double exponent) const = 0;
};

// Read noise (fresh at every read): G <- G + N(0, sigma(G)) for the duration of one read.
class ReadNoise {
 public:
  virtual ~ReadNoise() = default;
  // Standard deviation / g_max for a cell of conductance / g_max.
  virtual double sigma(double conductance) const = 0;
};

// Noise added to the column current before the ADC, relative to the ADC full scale.
class OutputNoise {
 public:
  virtual ~OutputNoise() = default;
  virtual double sigma(double full_scale) const = 0;  // same unit as full_scale
};

enum class CellState { kNormal, kStuckOff, kStuckOn };

// Stuck cells (per chip instance).
class StuckCells {
 public:
  virtual ~StuckCells() = default;
  // The cell's state from a uniform draw in (0, 1).
  virtual CellState state(double uniform) const = 0;
  // The conductance (S) of a cell in `state` that was meant to hold `conductance` (S).
  virtual double conductance(CellState state, double conductance, double g_max) const = 0;
};

// IR drop along the bit lines: the factor that multiplies the current of the cell in row
// `row` (0-based, within its array) of a column whose load is `column_load`
// (Σ_k v_k G_k / (rows (2^dac_bits - 1) g_max), ANALOG_MODEL.md §2).
class IrDrop {
 public:
  virtual ~IrDrop() = default;
  virtual double attenuation(int row, int rows, double column_load) const = 0;
  // The model is linear in the row index: attenuation = 1 - row_slope() (row + 1) / rows * L.
  // The engine uses it to apply the drop with two sums per column instead of one per cell.
  virtual double row_slope() const = 0;
};

// The converter of one column current (in units of ΔG V_dac_lsb) into a digital value.
class Adc {
 public:
  virtual ~Adc() = default;
  // The value the digital side sees for `current`, with step `lsb` and `codes` levels on each
  // side of zero (2^(bits-1) - 1). Sets *clipped when the current is beyond the last code.
  virtual double convert(double current, double lsb, int64_t codes, bool* clipped) const = 0;
  // convert() over currents[0, count) in place; returns how many clipped. One virtual call per
  // row of reads: the engine's hot loop.
  virtual int64_t convert_all(double* currents, int64_t count, double lsb, int64_t codes) const {
    int64_t clipped = 0;
    for (int64_t i = 0; i < count; ++i) {
      bool clip = false;
      currents[i] = convert(currents[i], lsb, codes, &clip);
      clipped += clip;
    }
    return clipped;
  }
  // acc[i] += weight · convert(currents[i]) / lsb over [0, count): the code (an integer for a
  // quantising ADC, so that sums of codes stay exact), or the current itself for an ideal one
  // (lsb 1). Returns how many clipped. The engine's hot loop: vectorised where overridden.
  virtual int64_t accumulate_codes(const double* currents, int64_t count, double lsb, int64_t codes,
                                   double weight, double* acc) const {
    int64_t clipped = 0;
    for (int64_t i = 0; i < count; ++i) {
      bool clip = false;
      acc[i] += weight * (convert(currents[i], lsb, codes, &clip) / lsb);
      clipped += clip;
    }
    return clipped;
  }
  // accumulate_codes of float currents (the engine's noise-free reads): the same results as
  // converting each to double first.
  virtual int64_t accumulate_codes(const float* currents, int64_t count, double lsb, int64_t codes,
                                   double weight, double* acc) const {
    int64_t clipped = 0;
    for (int64_t i = 0; i < count; ++i) {
      bool clip = false;
      acc[i] += weight * (convert(static_cast<double>(currents[i]), lsb, codes, &clip) / lsb);
      clipped += clip;
    }
    return clipped;
  }
  // Whether convert() quantises at all.
  virtual bool quantises() const = 0;
};

// Factories: the model a ModelConfig names, or nullptr for "none" (the effect is off).
// An unknown name, a missing or out-of-range parameter is Error(kBadInput) naming the slot.
std::unique_ptr<ProgrammingNoise> make_programming_noise(const arch::ModelConfig& config);
std::unique_ptr<Drift> make_drift(const arch::ModelConfig& config);
std::unique_ptr<ReadNoise> make_read_noise(const arch::ModelConfig& config);
std::unique_ptr<OutputNoise> make_output_noise(const arch::ModelConfig& config);
std::unique_ptr<StuckCells> make_stuck_cells(const arch::ModelConfig& config);
std::unique_ptr<IrDrop> make_ir_drop(const arch::ModelConfig& config);
// "uniform" (ANALOG_MODEL.md §1) or "ideal" (no quantisation); "none" is taken as "ideal".
std::unique_ptr<Adc> make_adc(const arch::ModelConfig& config);

// The model names device/ implements for a slot ("device.programming", ..., "adc"), without
// "none"; for checking against arch/model_registry.h.
std::vector<std::string> implemented_models(const std::string& slot);

// round half away from zero of a double, exactly as std::round, without a libm call.
inline double round_half_away(double value) {
  if (!(value > -4.5e15 && value < 4.5e15)) return value;  // already an integer (or NaN)
  const double truncated = static_cast<double>(static_cast<int64_t>(value));
  const double fraction = value - truncated;  // exact
  if (fraction >= 0.5) return truncated + 1.0;
  if (fraction <= -0.5) return truncated - 1.0;
  return truncated;
}

}  // namespace aimc::device
