// Whatever the architecture schema accepts, the crossbar engine runs: the extreme bit widths
// of every key that sizes a read (the engine only asserts what the schema validated).
#include <gtest/gtest.h>

#include <cmath>

#include "aimc/analog/crossbar.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"

namespace aimc::analog {
namespace {

TEST(AcceptedArchitecture, ExtremeBitWidthsRunOnTheCrossbarEngine) {
  Tensor weight(DType::kF32, {3, 2});
  for (int64_t i = 0; i < 6; ++i) weight.data<float>()[i] = 0.25f * static_cast<float>(i) - 0.6f;
  Tensor x(DType::kF32, {2, 3});
  for (int64_t i = 0; i < 6; ++i) x.data<float>()[i] = 0.5f - 0.3f * static_cast<float>(i);
  int accepted = 0, rejected = 0;
  for (int in_bits : {2, 16})
    for (int dac_bits : {1, 15})
      for (int w_bits : {2, 16})
        for (int cell_bits : {1, 8})
          for (int adc_bits : {2, 24})
            for (int rows : {1, 65536}) {
              const std::vector<std::string> overrides = {
                  "input.in_bits=" + std::to_string(in_bits),
                  "input.dac_bits=" + std::to_string(dac_bits),
                  "weights.w_bits=" + std::to_string(w_bits),
                  "array.cell_bits=" + std::to_string(cell_bits),
                  "adc.bits=" + std::to_string(adc_bits),
                  "array.rows=" + std::to_string(rows)};
              arch::Architecture arch;
              try {
                arch = arch::parse_architecture("", "x.yaml", overrides);
              } catch (const Error&) {
                ++rejected;
                continue;
              }
              ++accepted;
              SCOPED_TRACE(::testing::PrintToString(overrides));
              CrossbarLayer layer(arch, weight, Tensor(), {1, 0, "extreme"});
              layer.calibrate(x);
              Tensor y = layer.forward(x, 0);
              for (float v : y.values<float>()) EXPECT_TRUE(std::isfinite(v));
            }
  EXPECT_GT(accepted, 10);
  EXPECT_GT(rejected, 0);  // dac_bits 15 with in_bits 2, and reads past 2^24
}

}  // namespace
}  // namespace aimc::analog
