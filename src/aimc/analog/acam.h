// Analog CAM function units (../shared/ANALOG_MODEL.md §3): y = f(x) element-wise by one
// associative search. A unit quantises its input to in_bits codes over [lo, hi], and stores,
// for each bit of the (Gray- or binary-encoded) out_bits output code, one ACAM row per
// maximal run of input codes where that bit is 1; a search ORs the matches of each bit's rows,
// decodes the word and dequantises it over the range of f on [lo, hi].
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aimc/analog/crossbar.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/tensor.h"

namespace aimc::analog {

enum class AcamFunction {
  kExp,
  kReciprocal,
  kRsqrt,
  kLog,
  kGelu,
  kTanh,
  kSigmoid,
  kSilu,
  kSqrt,
  kRelu,     // NL-DPE's fused readout (docs/analog-model.md, "ADC-less readout")
  kIdentity  // last: acam_function_from_name walks up to it
};

const char* acam_function_name(AcamFunction f);
// The function of that name (the lowering registry names functions so); nullopt if none.
std::optional<AcamFunction> acam_function_from_name(const std::string& name);
double acam_function_value(AcamFunction f, double x);  // the exact f (gelu: erf form)

struct AcamRow {
  int bit;        // output bit this row sets
  double lo, hi;  // matches lo <= x < hi (input units, after threshold noise)
};

class AcamUnit {
 public:
  // A unit for f over input range [lo, hi] (lo < hi), with the architecture's acam.in_bits,
  // out_bits and encoding. The output range is [min f, max f] over the codes' centres.
  AcamUnit(AcamFunction f, double lo, double hi, const arch::AcamConfig& config);

  // Draws this chip instance's threshold noise (acam.threshold_sigma x (hi - lo) per
  // threshold); without a call (or with sigma 0) the thresholds are exact.
  void program(const ChipKey& key);

  // y[i] = unit(x[i]); input noise acam.input_sigma x (hi - lo) per search, drawn from
  // counters keyed by first_element + i (so independent of batch size and threads).
  void apply(const float* x, float* y, int64_t n, int64_t first_element) const;
  float apply_one(float x) const;  // no input noise
  // One search of input x with input noise drawn at counter `element` (the primitive that
  // apply() and the composite operations use; NaN gives NaN).
  double search(double x, int64_t element) const;

  int rows() const;                                // ACAM rows this unit needs
  const std::vector<AcamRow>& table_rows() const;  // as programmed
  // The noise-free output for every input code (the quantised f table): out_codes[c]
  // dequantised. An ACAM without noise returns exactly table()[code(x)].
  const std::vector<double>& table() const;
  int code_of(double x) const;  // input code of x: clamp(floor((x - lo) / step), 0, 2^in_bits - 1)

  AcamFunction function() const;
  double lo() const;
  double hi() const;

  // A search without noise, inline: the table lookup by code that search() does when the
  // thresholds are exact and there is no input noise (the same value, bit for bit; NaN gives
  // NaN). Valid while the unit lives.
  struct Lookup {
    double lo = 0, inverse_step = 0;
    const double* bounds = nullptr;  // codes + 1 code boundaries
    const double* table = nullptr;   // codes outputs
    int codes = 0;
    // The input code of x (not NaN): an estimate by multiplication, settled on the thresholds
    // themselves so that the lookup agrees with the row search bit for bit.
    int code(double x) const {
      double estimate = std::floor((x - lo) * inverse_step);
      estimate = estimate < 0.0 ? 0.0 : estimate;
      int c = estimate > codes - 1 ? codes - 1 : static_cast<int>(estimate);
      while (c + 1 < codes && x >= bounds[c + 1]) ++c;
      while (c > 0 && x < bounds[c]) --c;
      return c;
    }
    double operator()(double x) const { return x != x ? x : table[code(x)]; }
  };
  // The lookup, when searches are one (exact thresholds, acam.input_sigma 0); else nullopt.
  std::optional<Lookup> lookup() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A calibrated input range [lo, hi] made usable for a unit: widened when calibration saw a
// single value (by 10^-3 of max(1, |hi|) each side), [-1, 1] when it saw none (lo > hi).
std::pair<double, double> usable_range(double lo, double hi);

// Rows a unit would need for f over [lo, hi] with the given encoding (for the Gray-vs-binary
// comparison and the cost model), without building it.
int acam_rows(AcamFunction f, double lo, double hi, const arch::AcamConfig& config);

// Composite operations (ANALOG_MODEL.md §3), on float32 tensors, the reduction axis last.
// softmax: m = max digital; e = exp_unit(x - m) (exp unit over [lo, 0]); s = Σ e digital;
// r = recip_unit(s); p = e·r. x: [..., n] -> [..., n].
Tensor acam_softmax(const Tensor& x, const AcamUnit& exp_unit, const AcamUnit& recip_unit,
                    int64_t first_element);
// layer norm over the last dim: mean, var digital; r = rsqrt_unit(var + eps); (x-mean)·r·γ+β.
Tensor acam_layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                       const AcamUnit& rsqrt_unit, int64_t first_element);
// a[..., M, K] x b[..., K, N] (same batch dims, no broadcasting) with every product
// a·b = sgn(a)·sgn(b)·exp(ln|a| + ln|b|): ln on log_unit, exp on exp_unit, sums digital.
// Zeros (|v| below log_unit.lo()) contribute 0.
//
// `products` (optional) must have been built from the same two units; when it is valid, each
// product is one read of it instead of an exp search: the same numbers, faster.
class LogProductTable;
Tensor acam_log_matmul(const Tensor& a, const Tensor& b, const AcamUnit& log_unit,
                       const AcamUnit& exp_unit, int64_t first_element,
                       const LogProductTable* products = nullptr);

// exp_unit(log_unit(|a|) + log_unit(|b|)) for every pair of the log unit's input codes, when
// both units are plain lookups (exact thresholds, no input noise: AcamUnit::lookup()) and the
// log unit has at most kMaxCodes input codes; otherwise not valid(). Each ln is then a
// function of its input code alone, and so is each product of a pair of codes: the table
// holds the exp unit's input code of every pair (uint16), and the exp unit's table its
// output. Built once per programmed pair of units (the matmul engine keeps it).
class LogProductTable {
 public:
  static constexpr int kMaxCodes = 1024;
  LogProductTable() = default;
  LogProductTable(const AcamUnit& log_unit, const AcamUnit& exp_unit);
  bool valid() const { return codes_ > 0; }
  int codes() const { return codes_; }
  // The log unit's input code of a magnitude (not NaN, at least log_unit.lo()).
  int log_code(double magnitude) const { return log_lookup_.code(magnitude); }
  // exp_unit(ln(code a) + ln(code b)): the same double as the search.
  double product(int code_a, int code_b) const {
    return exp_table_[pair_codes_[static_cast<size_t>(code_a) * codes_ + code_b]];
  }

 private:
  int codes_ = 0;
  AcamUnit::Lookup log_lookup_;
  std::vector<uint16_t> pair_codes_;  // [codes, codes]
  std::vector<double> exp_table_;     // the exp unit's output per input code
};

}  // namespace aimc::analog
