#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "aimc/core/float16.h"

namespace aimc {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// The value of half `bits` from the IEEE 754 definition, independently of float16_to_float.
double half_value_by_definition(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1F;
  int mantissa = bits & 0x3FF;
  double sign = (bits & 0x8000) != 0 ? -1.0 : 1.0;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa == 0 ? sign * kInf : std::nan("");
  return sign * std::ldexp(1024 + mantissa, exponent - 25);
}

bool is_nan_bits(uint16_t bits) {
  return (bits & 0x7C00) == 0x7C00 && (bits & 0x3FF) != 0;
}

TEST(Float16, KnownValues) {
  struct Case {
    double value;
    uint16_t bits;
  };
  const Case cases[] = {
      {0.0, 0x0000},
      {-0.0, 0x8000},
      {1.0, 0x3C00},
      {-2.0, 0xC000},
      {0.5, 0x3800},
      {65504.0, 0x7BFF},                  // largest finite half
      {std::ldexp(1.0, -14), 0x0400},     // smallest normal
      {std::ldexp(1.0, -24), 0x0001},     // smallest subnormal
      {std::ldexp(1023.0, -24), 0x03FF},  // largest subnormal
      {0.1, 0x2E66},                      // 0.0999755859375
      {1.0 / 3.0, 0x3555},
      {3.140625, 0x4248},
      {1.0 + std::ldexp(1.0, -11), 0x3C00},         // tie between 1 and 1+2^-10: to even (1)
      {1.0 + 3 * std::ldexp(1.0, -11), 0x3C02},     // tie: to even (1+2^-9)
      {1.0 + std::ldexp(1.0, -11) + 1e-9, 0x3C01},  // just above the tie: up
      {65519.99, 0x7BFF},                           // just below the tie with 2^16: down
      {65520.0, 0x7C00},                            // tie with 2^16: to even, i.e. infinity
      {1e6, 0x7C00},
      {-1e6, 0xFC00},
      {std::ldexp(1.0, -25), 0x0000},              // tie between 0 and 2^-24: to even (0)
      {std::ldexp(1.0, -25) * 1.0000001, 0x0001},  // just above: the smallest subnormal
      {-std::ldexp(3.0, -25), 0x8002},             // tie between 1 and 2 ulps: 2
      {std::ldexp(1.0, -26), 0x0000},
      {1e-30, 0x0000},
      {kInf, 0x7C00},
      {-kInf, 0xFC00},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(double_to_float16(c.value).bits, c.bits) << c.value;
    // The float path: only where the value is a float (0.1 and 1/3 round to nearby floats that
    // round to the same halves; 1 + 2^-11 + 1e-9 does not survive the trip to float).
    if (static_cast<double>(static_cast<float>(c.value)) == c.value || c.value == 0.1 ||
        c.value == 1.0 / 3.0) {
      EXPECT_EQ(float_to_float16(static_cast<float>(c.value)).bits, c.bits) << c.value;
    }
  }
  EXPECT_EQ(float16_to_float(Float16{0x3C00}), 1.0f);
  EXPECT_EQ(float16_to_float(Float16{0x7BFF}), 65504.0f);
  EXPECT_EQ(float16_to_float(Float16{0x0001}), std::ldexp(1.0f, -24));
  EXPECT_EQ(float16_to_float(Float16{0xFC00}), -kInf);
  EXPECT_TRUE(std::signbit(float16_to_float(Float16{0x8000})));
  EXPECT_TRUE(std::isnan(float16_to_float(Float16{0x7E00})));
  EXPECT_TRUE(std::isnan(float16_to_float(Float16{0x7C01})));  // signalling NaN stays NaN
  EXPECT_TRUE(is_nan_bits(float_to_float16(std::numeric_limits<float>::quiet_NaN()).bits));
  EXPECT_TRUE(is_nan_bits(double_to_float16(std::numeric_limits<double>::quiet_NaN()).bits));
  // A NaN whose payload lives only in the low bits must not become infinity.
  EXPECT_TRUE(is_nan_bits(float_to_float16(std::bit_cast<float>(0x7F800001u)).bits));
}

// Every half widens to its exact value and narrows back to the same bits, NaN payloads included.
TEST(Float16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t b = 0; b <= 0xFFFF; ++b) {
    auto bits = static_cast<uint16_t>(b);
    float widened = float16_to_float(Float16{bits});
    if (is_nan_bits(bits)) {
      ASSERT_TRUE(std::isnan(widened)) << std::hex << b;
    } else {
      ASSERT_EQ(static_cast<double>(widened), half_value_by_definition(bits)) << std::hex << b;
      ASSERT_EQ(double_to_float16(static_cast<double>(widened)).bits, bits) << std::hex << b;
    }
    ASSERT_EQ(float_to_float16(widened).bits, bits) << std::hex << b;
  }
}

// Between every two neighbouring halves: the midpoint goes to the one with an even mantissa,
// anything above it up, anything below it down, from float and from double alike.
TEST(Float16, EveryMidpointRoundsToEven) {
  for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
    for (uint32_t b = 0; b < 0x7C00; ++b) {
      auto low = static_cast<uint16_t>(sign | b);
      auto high = static_cast<uint16_t>(sign | (b + 1));  // 0x7C00 (infinity) after 65504
      double low_value = half_value_by_definition(low);
      // Past 65504 the rounding boundary is 65520, as if the format went on to 2^16.
      double high_value =
          b + 1 == 0x7C00 ? (sign ? -65536.0 : 65536.0) : half_value_by_definition(high);
      double mid = (low_value + high_value) / 2;  // exact: a half has 11 significant bits
      uint16_t even = (b & 1) == 0 ? low : high;
      auto mid_f = static_cast<float>(mid);
      ASSERT_EQ(static_cast<double>(mid_f), mid);
      ASSERT_EQ(float_to_float16(mid_f).bits, even) << std::hex << b;
      ASSERT_EQ(double_to_float16(mid).bits, even) << std::hex << b;
      float toward_high = std::nextafter(mid_f, static_cast<float>(high_value));
      float toward_low = std::nextafter(mid_f, static_cast<float>(low_value));
      ASSERT_EQ(float_to_float16(toward_high).bits, high) << std::hex << b;
      ASSERT_EQ(float_to_float16(toward_low).bits, low) << std::hex << b;
      ASSERT_EQ(double_to_float16(std::nextafter(mid, high_value)).bits, high) << std::hex << b;
      ASSERT_EQ(double_to_float16(std::nextafter(mid, low_value)).bits, low) << std::hex << b;
    }
  }
}

#ifdef __FLT16_MAX__
// The compiler's own _Float16 conversions (soft-float, round to nearest even) as a second
// opinion over a spread of float and double bit patterns.
TEST(Float16, AgreesWithTheCompilersFloat16) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state;
  };
  for (int i = 0; i < 1'000'000; ++i) {
    // Narrow the exponent range now and then so that most samples land near halves.
    auto f_bits = static_cast<uint32_t>(next() >> 32);
    if (i % 2 == 0) f_bits = (f_bits & 0x80FFFFFFu) | ((0x60u + (f_bits >> 24) % 0x20u) << 23);
    float f = std::bit_cast<float>(f_bits);
    if (std::isnan(f)) continue;
    auto expected = std::bit_cast<uint16_t>(static_cast<_Float16>(f));
    ASSERT_EQ(float_to_float16(f).bits, expected) << std::hexfloat << f;
    uint64_t d_bits = next();
    if (i % 2 == 0) d_bits = (d_bits & 0x800FFFFFFFFFFFFFull) | ((1023 - 30 + next() % 48) << 52);
    double d = std::bit_cast<double>(d_bits);
    if (std::isnan(d)) continue;
    expected = std::bit_cast<uint16_t>(static_cast<_Float16>(d));
    ASSERT_EQ(double_to_float16(d).bits, expected) << std::hexfloat << d;
  }
}
#endif

}  // namespace
}  // namespace aimc
