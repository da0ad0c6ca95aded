// The device models of device/noise.h: their formulas, their statistics on counter-based
// streams (tolerances of 5 standard errors of the sample), the registry and its errors.
#include "aimc/device/noise.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "aimc/arch/model_registry.h"
#include "aimc/core/error.h"
#include "aimc/core/rng.h"
#include "common/model_config.h"

namespace aimc::device {
namespace {

using test::model;

TEST(ProgrammingNoise, Formulas) {
  EXPECT_EQ(make_programming_noise(model("none")), nullptr);
  auto constant = make_programming_noise(model("constant", {{"sigma", 0.03}}));
  EXPECT_DOUBLE_EQ(constant->sigma(0.2), 0.03);
  EXPECT_DOUBLE_EQ(constant->sigma(0.9), 0.03);
  auto proportional = make_programming_noise(model("proportional", {{"sigma", 0.05}}));
  EXPECT_DOUBLE_EQ(proportional->sigma(0.4), 0.02);
  auto polynomial = make_programming_noise(model("polynomial", {}, {0.01, 0.2, -0.1}));
  EXPECT_DOUBLE_EQ(polynomial->sigma(0.5), 0.01 + 0.2 * 0.5 - 0.1 * 0.25);
  EXPECT_DOUBLE_EQ(polynomial->sigma(0.0), 0.01);
}

TEST(ReadAndOutputNoise, Formulas) {
  EXPECT_DOUBLE_EQ(make_read_noise(model("constant", {{"sigma", 0.01}}))->sigma(0.3), 0.01);
  EXPECT_DOUBLE_EQ(make_read_noise(model("proportional", {{"sigma", 0.1}}))->sigma(0.3), 0.03);
  EXPECT_DOUBLE_EQ(make_output_noise(model("gaussian", {{"sigma", 0.002}}))->sigma(384.0), 0.768);
}

// E[max(0, X)] for X ~ N(mu, sigma^2).
double clipped_normal_mean(double mu, double sigma) {
  const double a = mu / sigma;
  const double pdf = std::exp(-0.5 * a * a) / std::sqrt(2.0 * M_PI);
  const double cdf = 0.5 * std::erfc(-a / std::sqrt(2.0));
  return mu * cdf + sigma * pdf;
}

TEST(Drift, PowerLawExponentsAndFactors) {
  const double nu_mean = 0.02, nu_std = 0.03, t0 = 20.0, t = 3600.0;
  auto drift = make_drift(model(
      "power_law", {{"nu_mean", nu_mean}, {"nu_std", nu_std}, {"t0", t0}, {"t_inference", t}}));
  EXPECT_DOUBLE_EQ(drift->exponent(-10.0), 0.0);  // clipped at 0
  EXPECT_DOUBLE_EQ(drift->exponent(1.0), nu_mean + nu_std);
  EXPECT_NEAR(drift->factor(0.05), std::pow(t / t0, -0.05), 1e-15);

  RngStream stream(7, 0, "layer", "drift");
  const int samples = 200000;
  double sum = 0.0, sum_sq = 0.0;
  int clipped = 0;
  for (int i = 0; i < samples; ++i) {
    double nu = drift->exponent(stream.normal(i));
    sum += nu;
    sum_sq += nu * nu;
    clipped += nu == 0.0;
  }
  const double mean = sum / samples, variance = sum_sq / samples - mean * mean;
  EXPECT_NEAR(mean, clipped_normal_mean(nu_mean, nu_std), 5.0 * std::sqrt(variance / samples));
  const double p_clip = 0.5 * std::erfc(nu_mean / nu_std / std::sqrt(2.0));
  EXPECT_NEAR(double(clipped) / samples, p_clip, 5.0 * std::sqrt(p_clip * (1 - p_clip) / samples));
}

TEST(StuckCells, FractionsAndConductances) {
  const double p_off = 0.03, p_on = 0.01;
  auto stuck =
      make_stuck_cells(model("random", {{"p_off", p_off}, {"p_on", p_on}, {"g_off", 1e-7}}));
  RngStream stream(3, 1, "layer", "stuck");
  const int samples = 400000;
  int off = 0, on = 0;
  for (int i = 0; i < samples; ++i) {
    CellState state = stuck->state(stream.uniform(i));
    off += state == CellState::kStuckOff;
    on += state == CellState::kStuckOn;
  }
  auto tolerance = [&](double p) { return 5.0 * std::sqrt(p * (1 - p) / samples); };
  EXPECT_NEAR(double(off) / samples, p_off, tolerance(p_off));
  EXPECT_NEAR(double(on) / samples, p_on, tolerance(p_on));
  EXPECT_DOUBLE_EQ(stuck->conductance(CellState::kStuckOff, 5e-5, 1e-4), 1e-7);
  EXPECT_DOUBLE_EQ(stuck->conductance(CellState::kStuckOn, 5e-5, 1e-4), 1e-4);
  EXPECT_DOUBLE_EQ(stuck->conductance(CellState::kNormal, 5e-5, 1e-4), 5e-5);
}

TEST(IrDrop, LinearAttenuation) {
  auto ir = make_ir_drop(model("linear", {{"gamma", 0.2}}));
  EXPECT_DOUBLE_EQ(ir->attenuation(0, 128, 0.5), 1.0 - 0.2 * 1.0 / 128 * 0.5);
  EXPECT_DOUBLE_EQ(ir->attenuation(127, 128, 0.5), 1.0 - 0.2 * 0.5);
  EXPECT_DOUBLE_EQ(ir->row_slope(), 0.2);
}

TEST(Adc, UniformErrorIsAtMostHalfAnLsbUnlessClipping) {
  auto adc = make_adc(model("uniform"));
  ASSERT_TRUE(adc->quantises());
  const double lsb = 0.37;
  const int64_t codes = 31;
  RngStream stream(1, 0, "adc", "test");
  for (int i = 0; i < 20000; ++i) {
    const double current = (stream.uniform(i) * 2.0 - 1.0) * 1.2 * codes * lsb;
    bool clipped = false;
    const double value = adc->convert(current, lsb, codes, &clipped);
    const double code = value / lsb;
    EXPECT_NEAR(code, std::round(code), 1e-9);
    EXPECT_LE(std::abs(code), codes + 1e-9);
    if (std::abs(current) <= (codes + 0.5) * lsb) {
      EXPECT_FALSE(clipped) << current;
      EXPECT_LE(std::abs(value - current), lsb / 2 + 1e-12) << current;
      EXPECT_DOUBLE_EQ(code, std::round(current / lsb));
    } else {
      EXPECT_TRUE(clipped) << current;
      EXPECT_DOUBLE_EQ(value, std::copysign(codes * lsb, current));
    }
  }
  bool clipped = false;
  EXPECT_EQ(adc->convert(2.5, 1.0, 7, &clipped), 3.0);  // half away from zero
  EXPECT_EQ(adc->convert(-2.5, 1.0, 7, &clipped), -3.0);
  EXPECT_FALSE(clipped);
  auto ideal = make_adc(model("ideal"));
  EXPECT_FALSE(ideal->quantises());
  EXPECT_EQ(ideal->convert(1e9 + 0.3, 1.0, 7, &clipped), 1e9 + 0.3);
}

// The vectorised accumulate_codes against clamp(std::round(I / LSB)) element by element, for a
// power-of-two LSB (multiplied by its inverse) and another one (divided), with ties, values
// next to ties, clipping, huge values and NaN (code 0, clipped).
TEST(Adc, AccumulateCodesMatchesRoundAndClamp) {
  auto adc = make_adc(model("uniform"));
  RngStream stream(4, 0, "adc", "accumulate");
  for (double lsb : {4.0, 0.25, 0.37}) {
    const int64_t codes = 127;
    std::vector<double> currents;
    for (double v : {0.0, -0.0, 0.5, -0.5, 1.5, -2.5, 0.49999999999999994, -0.49999999999999994,
                     126.5, -126.5, 127.49999999999999, 127.5, -127.5, 1e300, -1e300, 4.5e15 + 1})
      currents.push_back(v * lsb);
    for (int i = 0; i < 5000; ++i) currents.push_back((stream.uniform(i) - 0.5) * 300.0 * lsb);
    currents.push_back(std::nan(""));
    const double weight = -4.0;
    std::vector<double> acc(currents.size(), 1.0);
    const int64_t clipped =
        adc->accumulate_codes(currents.data(), currents.size(), lsb, codes, weight, acc.data());
    int64_t expected_clipped = 0;
    for (size_t i = 0; i < currents.size(); ++i) {
      double code = 0.0;
      if (std::isnan(currents[i])) {
        ++expected_clipped;
      } else {
        code = std::round(currents[i] / lsb);
        if (std::abs(code) > codes) {
          ++expected_clipped;
          code = std::copysign(static_cast<double>(codes), code);
        }
      }
      EXPECT_EQ(acc[i], 1.0 + weight * code) << "lsb " << lsb << " current " << currents[i];
    }
    EXPECT_EQ(clipped, expected_clipped) << lsb;
  }
  auto ideal = make_adc(model("ideal"));
  std::vector<double> acc{1.0}, current{0.3};
  EXPECT_EQ(ideal->accumulate_codes(current.data(), 1, 1.0, 7, 2.0, acc.data()), 0);
  EXPECT_EQ(acc[0], 1.0 + 2.0 * 0.3);
}

// The float overload (noise-free reads) against the double one on the same values: float
// lanes for a power-of-two LSB, the double path otherwise; identical sums and clip counts.
TEST(Adc, FloatCurrentsGiveTheCodesOfTheirDoubleValues) {
  RngStream stream(5, 0, "adc", "float");
  for (const char* name : {"uniform", "ideal"}) {
    auto adc = make_adc(model(name));
    for (double lsb : {1.0, 4.0, 0.25, 0.37}) {
      for (int64_t codes : {int64_t{127}, int64_t{511}, int64_t{1} << 21, int64_t{1} << 23}) {
        std::vector<float> currents;
        for (float v : {0.0f, -0.0f, 0.5f, -0.5f, 1.5f, -2.5f, 0.49999997f, -0.49999997f, 126.5f,
                        -126.5f, 127.5f, 510.5f, -511.5f, 1e30f, -1e30f, 1e-40f})
          currents.push_back(static_cast<float>(v * lsb));
        for (int i = 0; i < 3000; ++i)
          currents.push_back(static_cast<float>((stream.uniform(i) - 0.5) * 1200.0 * lsb));
        for (int i = 0; i < 300; ++i)  // exact halves
          currents.push_back(static_cast<float>((i - 150 + 0.5) * lsb));
        currents.push_back(std::nanf(""));
        std::vector<double> wide(currents.begin(), currents.end());
        std::vector<double> from_float(currents.size(), 3.0), from_double(currents.size(), 3.0);
        const int64_t clipped_float = adc->accumulate_codes(currents.data(), currents.size(), lsb,
                                                            codes, -8.0, from_float.data());
        const int64_t clipped_double =
            adc->accumulate_codes(wide.data(), wide.size(), lsb, codes, -8.0, from_double.data());
        EXPECT_EQ(clipped_float, clipped_double) << name << " lsb " << lsb << " codes " << codes;
        for (size_t i = 0; i < currents.size(); ++i)  // (the ideal ADC passes NaN on)
          ASSERT_TRUE(from_float[i] == from_double[i] ||
                      (std::isnan(from_float[i]) && std::isnan(from_double[i])))
              << name << " lsb " << lsb << " codes " << codes << " current " << currents[i];
      }
    }
  }
}

TEST(RoundHalfAway, MatchesStdRound) {
  for (double v : {0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 0.49999999999999994, -0.49999999999999994,
                   1e15 + 0.5, 4503599627370497.0, -7.3, 7.7, 1e300, -1e300})
    EXPECT_EQ(round_half_away(v), std::round(v)) << v;
}

TEST(Registry, UnknownNamesAndMissingParametersAreBadInput) {
  auto expect_bad_input = [](auto&& make) {
    try {
      make();
      ADD_FAILURE() << "no error";
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kBadInput) << error.what();
    }
  };
  expect_bad_input([] { make_programming_noise(model("gaussian", {{"sigma", 0.1}})); });
  expect_bad_input([] { make_drift(model("linear")); });
  expect_bad_input([] { make_read_noise(model("constant")); });  // sigma missing
  expect_bad_input([] { make_read_noise(model("constant", {{"sigma", -1.0}})); });
  expect_bad_input([] {
    make_stuck_cells(model("random", {{"p_off", 0.7}, {"p_on", 0.7}, {"g_off", 0}}));
  });
  expect_bad_input([] { make_adc(model("flash")); });
  expect_bad_input([] { make_programming_noise(model("polynomial")); });  // no coefficients
}

TEST(Registry, ImplementsEveryModelTheArchitectureDeclares) {
  for (const char* slot : {"device.programming", "device.drift", "device.read", "device.output",
                           "device.stuck", "device.ir_drop", "adc"}) {
    std::vector<std::string> declared;
    for (const std::string& name : arch::model_names(slot))
      if (name != "none") declared.push_back(name);
    std::vector<std::string> implemented = implemented_models(slot);
    std::sort(declared.begin(), declared.end());
    std::sort(implemented.begin(), implemented.end());
    EXPECT_EQ(declared, implemented) << slot;
  }
}

}  // namespace
}  // namespace aimc::device
