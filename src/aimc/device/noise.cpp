// The named device models of noise.h and the registry that builds them from the YAML's
// ModelConfig. Adding a model: a class here and one line in its slot's table.
#include "aimc/device/noise.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "aimc/core/error.h"

namespace aimc::device {

namespace {

// Parameters are read from the map directly (defaults are filled in by the YAML loader), so
// that a hand-built ModelConfig missing one is reported rather than silently defaulted.
double param(const arch::ModelConfig& config, const std::string& slot, const std::string& name) {
  auto it = config.params.find(name);
  if (it == config.params.end())
    throw_bad_input("{}: model '{}' needs parameter '{}'", slot, config.model, name);
  if (!std::isfinite(it->second))
    throw_bad_input("{}.{}: must be finite, got {}", slot, name, it->second);
  return it->second;
}

double nonnegative_param(const arch::ModelConfig& config, const std::string& slot,
                         const std::string& name) {
  double value = param(config, slot, name);
  if (value < 0.0) throw_bad_input("{}.{}: must be >= 0, got {}", slot, name, value);
  return value;
}

// --- programming noise -------------------------------------------------------------------

class ConstantProgrammingNoise : public ProgrammingNoise {
 public:
  explicit ConstantProgrammingNoise(double sigma) : sigma_(sigma) {}
  double sigma(double) const override { return sigma_; }

 private:
  double sigma_;
};

class ProportionalNoise : public ProgrammingNoise {
 public:
  explicit ProportionalNoise(double sigma) : sigma_(sigma) {}
  double sigma(double conductance) const override { return sigma_ * std::abs(conductance); }

 private:
  double sigma_;
};

class PolynomialProgrammingNoise : public ProgrammingNoise {
 public:
  explicit PolynomialProgrammingNoise(std::vector<double> coefficients)
      : coefficients_(std::move(coefficients)) {}
  double sigma(double conductance) const override {
    double sum = 0.0;  // Horner's rule on Σ c_i g^i, g relative to g_max
    for (auto it = coefficients_.rbegin(); it != coefficients_.rend(); ++it)
      sum = sum * conductance + *it;
    return std::max(0.0, sum);  // a fitted polynomial may dip below 0 outside its data
  }

 private:
  std::vector<double> coefficients_;
};

// --- drift ---------------------------------------------------------------------------------

class PowerLawDrift : public Drift {
 public:
  PowerLawDrift(double nu_mean, double nu_std, double t0, double t_inference)
      : nu_mean_(nu_mean), nu_std_(nu_std), log_time_ratio_(std::log(t_inference / t0)) {}
  double exponent(double standard_normal) const override {
    return std::max(0.0, nu_mean_ + nu_std_ * standard_normal);
  }
  double factor(double exponent) const override { return std::exp(-exponent * log_time_ratio_); }

 private:
  double nu_mean_, nu_std_, log_time_ratio_;
};

// --- read and output noise ------------------------------------------------------------------

class ConstantReadNoise : public ReadNoise {
 public:
  explicit ConstantReadNoise(double sigma) : sigma_(sigma) {}
  double sigma(double) const override { return sigma_; }

 private:
  double sigma_;
};

class ProportionalReadNoise : public ReadNoise {
 public:
  explicit ProportionalReadNoise(double sigma) : sigma_(sigma) {}
  double sigma(double conductance) const override { return sigma_ * std::abs(conductance); }

 private:
  double sigma_;
};

class GaussianOutputNoise : public OutputNoise {
 public:
  explicit GaussianOutputNoise(double sigma) : sigma_(sigma) {}
  double sigma(double full_scale) const override { return sigma_ * full_scale; }

 private:
  double sigma_;
};

// --- stuck cells, IR drop -------------------------------------------------------------------

class RandomStuckCells : public StuckCells {
 public:
  RandomStuckCells(double p_off, double p_on, double g_off)
      : p_off_(p_off), p_on_(p_on), g_off_(g_off) {}
  CellState state(double uniform) const override {
    if (uniform < p_off_) return CellState::kStuckOff;
    if (uniform < p_off_ + p_on_) return CellState::kStuckOn;
    return CellState::kNormal;
  }
  double conductance(CellState state, double conductance, double g_max) const override {
    switch (state) {
      case CellState::kStuckOff:
        return g_off_;
      case CellState::kStuckOn:
        return g_max;
      case CellState::kNormal:
        break;
    }
    return conductance;
  }

 private:
  double p_off_, p_on_, g_off_;
};

class LinearIrDrop : public IrDrop {
 public:
  explicit LinearIrDrop(double gamma) : gamma_(gamma) {}
  double attenuation(int row, int rows, double column_load) const override {
    return 1.0 - gamma_ * (row + 1) / rows * column_load;
  }
  double row_slope() const override { return gamma_; }

 private:
  double gamma_;
};

// --- ADC ------------------------------------------------------------------------------------

// acc[i] += weight · clamp(round_half_away(currents[i] / lsb), -limit, limit), computed as
// currents[i] · (1 / lsb) when LSB is a power of two (the same value, no division).
// Branch-free and without libm calls so that it vectorises; the AVX2 clone is picked at load
// time where the CPU has it. NaN gives code 0 and counts as clipped, as in
// UniformAdc::convert.
template <bool kPowerOfTwo, typename Current>
inline int64_t accumulate_rounded(const Current* __restrict currents, int64_t count, double lsb,
                                  double limit, double weight, double* __restrict acc) {
  const double inverse = 1.0 / lsb;
  const double cap = limit + 1.0;                // |x| beyond it clips whatever its rounding
  constexpr double kShift = 4503599627370496.0;  // 2^52: x + 2^52 - 2^52 rounds x to even
  int64_t clipped = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double current = currents[i];
    const double scaled = kPowerOfTwo ? current * inverse : current / lsb;
    const double magnitude = std::fabs(scaled);
    const double bounded = magnitude < cap ? magnitude : cap;  // < 2^31: the shift is exact
    const double even = (bounded + kShift) - kShift;
    // Half away from zero: a tie that went down to even goes up (bounded - even is exact).
    const double rounded = even + (bounded - even >= 0.5 ? 1.0 : 0.0);
    const bool in_range = rounded <= limit;
    clipped += in_range ? 0 : 1;
    const double code = std::copysign(in_range ? rounded : limit, scaled);
    acc[i] += weight * (scaled == scaled ? code : 0.0);
  }
  return clipped;
}

__attribute__((target_clones("avx2", "default"))) int64_t accumulate_rounded_codes(
    const double* currents, int64_t count, double lsb, bool power_of_two, double limit,
    double weight, double* acc) {
  return power_of_two ? accumulate_rounded<true>(currents, count, lsb, limit, weight, acc)
                      : accumulate_rounded<false>(currents, count, lsb, limit, weight, acc);
}

// The same for float currents (each widened to double: the same codes).
__attribute__((target_clones("avx2", "default"))) int64_t accumulate_rounded_codes(
    const float* currents, int64_t count, double lsb, bool power_of_two, double limit,
    double weight, double* acc) {
  return power_of_two ? accumulate_rounded<true>(currents, count, lsb, limit, weight, acc)
                      : accumulate_rounded<false>(currents, count, lsb, limit, weight, acc);
}

// The float twin of accumulate_rounded<true> for float currents, LSB a power of two and
// limit < 2^22: I·(1/LSB) is the same value in float as in double (a power-of-two scale), and
// so are its rounding and clamping, with 2^23 as the shift; eight lanes instead of four.
__attribute__((target_clones("avx2", "default"))) int64_t accumulate_rounded_codes_f32(
    const float* __restrict currents, int64_t count, double lsb, double limit, double weight,
    double* __restrict acc) {
  const float inverse = static_cast<float>(1.0 / lsb);
  const float cap = static_cast<float>(limit + 1.0), limit_f = static_cast<float>(limit);
  constexpr float kShift = 8388608.0f;  // 2^23
  constexpr int64_t kBlock = 256;
  float codes[kBlock];
  int32_t clipped = 0;
  for (int64_t i0 = 0; i0 < count; i0 += kBlock) {
    const int64_t n = std::min(kBlock, count - i0);
    const float* __restrict in = currents + i0;
    for (int64_t i = 0; i < n; ++i) {  // eight lanes
      const float scaled = in[i] * inverse;
      const float magnitude = std::fabs(scaled);
      const float bounded = magnitude < cap ? magnitude : cap;
      const float even = (bounded + kShift) - kShift;
      const float rounded = even + (bounded - even >= 0.5f ? 1.0f : 0.0f);
      const bool in_range = rounded <= limit_f;
      clipped += in_range ? 0 : 1;
      const float code = std::copysign(in_range ? rounded : limit_f, scaled);
      codes[i] = scaled == scaled ? code : 0.0f;
    }
    double* __restrict out = acc + i0;
    for (int64_t i = 0; i < n; ++i) out[i] += weight * static_cast<double>(codes[i]);
  }
  return clipped;
}

class UniformAdc : public Adc {
 public:
  double convert(double current, double lsb, int64_t codes, bool* clipped) const override {
    const double limit = static_cast<double>(codes);
    double code = round_half_away(current / lsb);
    if (code > limit || code < -limit || std::isnan(code)) {
      *clipped = true;
      code = std::isnan(code) ? 0.0 : std::clamp(code, -limit, limit);
    }
    return code * lsb;
  }
  int64_t convert_all(double* currents, int64_t count, double lsb, int64_t codes) const override {
    const double limit = static_cast<double>(codes);
    // I / LSB, or I * (1 / LSB) when LSB is a power of two (the same value, no division).
    int exponent = 0;
    const bool power_of_two = std::frexp(lsb, &exponent) == 0.5;
    const double inverse = 1.0 / lsb;
    int64_t clipped = 0;
    for (int64_t i = 0; i < count; ++i) {
      const double scaled = power_of_two ? currents[i] * inverse : currents[i] / lsb;
      // Clamping before rounding gives the same code (the limit is an integer) and keeps the
      // integer conversion in range; NaN clamps to... itself, and is caught as clipped.
      const double bounded = std::clamp(scaled, -limit - 1.0, limit + 1.0);
      double code = round_half_away(bounded);
      const bool clip = !(code >= -limit && code <= limit);
      clipped += clip;
      if (clip) code = std::isnan(code) ? 0.0 : std::clamp(code, -limit, limit);
      currents[i] = code * lsb;
    }
    return clipped;
  }
  int64_t accumulate_codes(const double* currents, int64_t count, double lsb, int64_t codes,
                           double weight, double* acc) const override {
    int exponent = 0;
    const bool power_of_two = std::frexp(lsb, &exponent) == 0.5;
    return accumulate_rounded_codes(currents, count, lsb, power_of_two, static_cast<double>(codes),
                                    weight, acc);
  }
  int64_t accumulate_codes(const float* currents, int64_t count, double lsb, int64_t codes,
                           double weight, double* acc) const override {
    int exponent = 0;
    const bool power_of_two = std::frexp(lsb, &exponent) == 0.5;
    if (power_of_two && codes < (int64_t{1} << 22))
      return accumulate_rounded_codes_f32(currents, count, lsb, static_cast<double>(codes), weight,
                                          acc);
    return accumulate_rounded_codes(currents, count, lsb, power_of_two, static_cast<double>(codes),
                                    weight, acc);
  }
  bool quantises() const override { return true; }
};

class IdealAdc : public Adc {
 public:
  double convert(double current, double, int64_t, bool*) const override { return current; }
  int64_t convert_all(double*, int64_t, double, int64_t) const override { return 0; }
  int64_t accumulate_codes(const double* currents, int64_t count, double, int64_t, double weight,
                           double* acc) const override {
    for (int64_t i = 0; i < count; ++i) acc[i] += weight * currents[i];
    return 0;
  }
  int64_t accumulate_codes(const float* currents, int64_t count, double, int64_t, double weight,
                           double* acc) const override {
    for (int64_t i = 0; i < count; ++i) acc[i] += weight * static_cast<double>(currents[i]);
    return 0;
  }
  bool quantises() const override { return false; }
};

// --- registry -------------------------------------------------------------------------------

template <typename Model>
using Factory = std::function<std::unique_ptr<Model>(const arch::ModelConfig&)>;

template <typename Model>
std::unique_ptr<Model> make(const std::string& slot,
                            const std::map<std::string, Factory<Model>>& table,
                            const arch::ModelConfig& config) {
  if (config.model == "none") return nullptr;
  auto it = table.find(config.model);
  if (it == table.end()) {
    std::string known = "none";
    for (const auto& [name, factory] : table) known += ", " + name;
    throw_bad_input("{}.model: unknown model '{}' (known: {})", slot, config.model, known);
  }
  return it->second(config);
}

const std::map<std::string, Factory<ProgrammingNoise>>& programming_table() {
  static const std::map<std::string, Factory<ProgrammingNoise>> table = {
      {"constant",
       [](const arch::ModelConfig& c) {
         return std::make_unique<ConstantProgrammingNoise>(
             nonnegative_param(c, "device.programming", "sigma"));
       }},
      {"proportional",
       [](const arch::ModelConfig& c) {
         return std::make_unique<ProportionalNoise>(
             nonnegative_param(c, "device.programming", "sigma"));
       }},
      {"polynomial",
       [](const arch::ModelConfig& c) -> std::unique_ptr<ProgrammingNoise> {
         if (c.coefficients.empty())
           throw_bad_input("device.programming: model 'polynomial' needs 'coefficients'");
         for (double coefficient : c.coefficients)
           if (!std::isfinite(coefficient))
             throw_bad_input("device.programming.coefficients: must be finite");
         return std::make_unique<PolynomialProgrammingNoise>(c.coefficients);
       }},
  };
  return table;
}

const std::map<std::string, Factory<Drift>>& drift_table() {
  static const std::map<std::string, Factory<Drift>> table = {
      {"power_law",
       [](const arch::ModelConfig& c) -> std::unique_ptr<Drift> {
         const std::string slot = "device.drift";
         double t0 = param(c, slot, "t0"), t_inference = param(c, slot, "t_inference");
         if (t0 <= 0.0) throw_bad_input("{}.t0: must be > 0, got {}", slot, t0);
         if (t_inference <= 0.0)
           throw_bad_input("{}.t_inference: must be > 0, got {}", slot, t_inference);
         return std::make_unique<PowerLawDrift>(
             param(c, slot, "nu_mean"), nonnegative_param(c, slot, "nu_std"), t0, t_inference);
       }},
  };
  return table;
}

const std::map<std::string, Factory<ReadNoise>>& read_table() {
  static const std::map<std::string, Factory<ReadNoise>> table = {
      {"constant",
       [](const arch::ModelConfig& c) {
         return std::make_unique<ConstantReadNoise>(nonnegative_param(c, "device.read", "sigma"));
       }},
      {"proportional",
       [](const arch::ModelConfig& c) {
         return std::make_unique<ProportionalReadNoise>(
             nonnegative_param(c, "device.read", "sigma"));
       }},
  };
  return table;
}

const std::map<std::string, Factory<OutputNoise>>& output_table() {
  static const std::map<std::string, Factory<OutputNoise>> table = {
      {"gaussian",
       [](const arch::ModelConfig& c) {
         return std::make_unique<GaussianOutputNoise>(
             nonnegative_param(c, "device.output", "sigma"));
       }},
  };
  return table;
}

const std::map<std::string, Factory<StuckCells>>& stuck_table() {
  static const std::map<std::string, Factory<StuckCells>> table = {
      {"random",
       [](const arch::ModelConfig& c) -> std::unique_ptr<StuckCells> {
         const std::string slot = "device.stuck";
         double p_off = nonnegative_param(c, slot, "p_off"),
                p_on = nonnegative_param(c, slot, "p_on");
         if (p_off + p_on > 1.0)
           throw_bad_input("{}: p_off + p_on must be <= 1, got {}", slot, p_off + p_on);
         return std::make_unique<RandomStuckCells>(p_off, p_on,
                                                   nonnegative_param(c, slot, "g_off"));
       }},
  };
  return table;
}

const std::map<std::string, Factory<IrDrop>>& ir_drop_table() {
  static const std::map<std::string, Factory<IrDrop>> table = {
      {"linear",
       [](const arch::ModelConfig& c) {
         return std::make_unique<LinearIrDrop>(nonnegative_param(c, "device.ir_drop", "gamma"));
       }},
  };
  return table;
}

const std::map<std::string, Factory<Adc>>& adc_table() {
  static const std::map<std::string, Factory<Adc>> table = {
      {"uniform", [](const arch::ModelConfig&) { return std::make_unique<UniformAdc>(); }},
      {"ideal", [](const arch::ModelConfig&) { return std::make_unique<IdealAdc>(); }},
  };
  return table;
}

template <typename Model>
std::vector<std::string> names_of(const std::map<std::string, Factory<Model>>& table) {
  std::vector<std::string> names;
  for (const auto& [name, factory] : table) names.push_back(name);
  return names;
}

}  // namespace

std::unique_ptr<ProgrammingNoise> make_programming_noise(const arch::ModelConfig& config) {
  return make("device.programming", programming_table(), config);
}
std::unique_ptr<Drift> make_drift(const arch::ModelConfig& config) {
  return make("device.drift", drift_table(), config);
}
std::unique_ptr<ReadNoise> make_read_noise(const arch::ModelConfig& config) {
  return make("device.read", read_table(), config);
}
std::unique_ptr<OutputNoise> make_output_noise(const arch::ModelConfig& config) {
  return make("device.output", output_table(), config);
}
std::unique_ptr<StuckCells> make_stuck_cells(const arch::ModelConfig& config) {
  return make("device.stuck", stuck_table(), config);
}
std::unique_ptr<IrDrop> make_ir_drop(const arch::ModelConfig& config) {
  return make("device.ir_drop", ir_drop_table(), config);
}
std::unique_ptr<Adc> make_adc(const arch::ModelConfig& config) {
  if (config.model == "none") return std::make_unique<IdealAdc>();
  return make("adc", adc_table(), config);
}

std::vector<std::string> implemented_models(const std::string& slot) {
  if (slot == "device.programming") return names_of(programming_table());
  if (slot == "device.drift") return names_of(drift_table());
  if (slot == "device.read") return names_of(read_table());
  if (slot == "device.output") return names_of(output_table());
  if (slot == "device.stuck") return names_of(stuck_table());
  if (slot == "device.ir_drop") return names_of(ir_drop_table());
  if (slot == "adc") return names_of(adc_table());
  return {};
}

}  // namespace aimc::device
