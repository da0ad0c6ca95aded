// Float16: an IEEE 754 binary16 ("half") number as stored in ONNX FLOAT16 tensors and in
// .npy '<f2' arrays. It is storage only: kernels widen it to float, compute, and round back.
// The conversions are exact both ways (every half is a float) and the narrowing rounds to
// nearest, ties to even, with overflow to infinity, subnormals and NaN payloads kept.
#pragma once

#include <bit>
#include <cstdint>
#include <type_traits>

namespace aimc {

struct Float16 {
  uint16_t bits;
};

static_assert(sizeof(Float16) == 2 && std::is_trivially_copyable_v<Float16>);

namespace detail {

// Rounds the IEEE number with raw bits `bits` (kMantissaBits explicit mantissa bits, exponent
// bias kExponentBias) to the nearest half. Works for float and double alike.
template <typename Bits, int kMantissaBits, int kExponentBias>
constexpr uint16_t round_to_half_bits(Bits bits) {
  constexpr int kTotalBits = static_cast<int>(sizeof(Bits)) * 8;
  constexpr Bits kExponentMax = (Bits{1} << (kTotalBits - 1 - kMantissaBits)) - 1;
  constexpr Bits kMantissaMask = (Bits{1} << kMantissaBits) - 1;
  auto sign = static_cast<uint16_t>((bits >> (kTotalBits - 16)) & 0x8000);
  auto exponent = static_cast<int>((bits >> kMantissaBits) & kExponentMax);
  Bits mantissa = bits & kMantissaMask;
  if (exponent == static_cast<int>(kExponentMax)) {
    if (mantissa == 0) return sign | 0x7C00;  // infinity
    // Keep the payload's top bits; a NaN needs a nonzero mantissa to stay a NaN.
    auto payload = static_cast<uint16_t>(mantissa >> (kMantissaBits - 10));
    return sign | 0x7C00 | (payload != 0 ? payload : 0x200);
  }
  int unbiased = exponent - kExponentBias;  // the source's subnormals land far below -25
  if (unbiased > 15) return sign | 0x7C00;  // at least 2^16: beyond the largest half
  if (unbiased < -25) return sign;          // below half the smallest subnormal (2^-25)
  Bits significand = mantissa | (Bits{1} << kMantissaBits);
  // A normal half keeps 11 significant bits; a subnormal one loses one more per binade below
  // 2^-14.
  int dropped = kMantissaBits - 10 + (unbiased < -14 ? -14 - unbiased : 0);
  Bits kept = significand >> dropped;
  Bits rest = significand & ((Bits{1} << dropped) - 1);
  Bits halfway = Bits{1} << (dropped - 1);
  if (rest > halfway || (rest == halfway && (kept & 1) != 0)) ++kept;
  if (unbiased < -14) return sign | static_cast<uint16_t>(kept);  // 1024 is the smallest normal
  // kept holds the implicit bit (1024..2048); a carry to 2048 moves into the exponent, and from
  // the largest binade on to the infinity pattern 0x7C00.
  return sign | static_cast<uint16_t>((static_cast<Bits>(unbiased + 14) << 10) + kept);
}

}  // namespace detail

constexpr float float16_to_float(Float16 value) {
  uint32_t sign = static_cast<uint32_t>(value.bits & 0x8000) << 16;
  uint32_t exponent = (value.bits >> 10) & 0x1F;
  uint32_t mantissa = value.bits & 0x3FF;
  uint32_t bits = sign;
  if (exponent == 0x1F) {
    bits |= 0x7F800000 | (mantissa << 13);  // infinity or NaN with the same payload
  } else if (exponent != 0) {
    bits |= ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {
    // Subnormal: mantissa * 2^-24; its leading 1 at bit p becomes the implicit bit.
    int p = 31 - std::countl_zero(mantissa);
    bits |= (static_cast<uint32_t>(p + 127 - 24) << 23) | ((mantissa << (23 - p)) & 0x7FFFFF);
  }
  return std::bit_cast<float>(bits);
}

constexpr Float16 float_to_float16(float value) {
  return {detail::round_to_half_bits<uint32_t, 23, 127>(std::bit_cast<uint32_t>(value))};
}

// Rounds once from double (going through float would round twice).
constexpr Float16 double_to_float16(double value) {
  return {detail::round_to_half_bits<uint64_t, 52, 1023>(std::bit_cast<uint64_t>(value))};
}

}  // namespace aimc
