// Kernels of the elementwise ops (unary, binary and variadic with numpy broadcasting,
// comparisons, logic, Where, Cast, Dropout) and of the reductions (Reduce*, ArgMax, ArgMin).
// Semantics are ONNX's (opsets 13-17). Integer arithmetic wraps around like two's complement
// hardware (and ONNX Runtime) instead of invoking undefined behaviour; integer Div truncates
// toward zero like the ONNX reference implementation. f16 is computed in float and rounded
// back (see with_f16_as_f32).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <type_traits>
#include <vector>

#include "aimc/core/parallel.h"
#include "aimc/runtime/broadcast.h"
#include "aimc/runtime/kernel.h"

namespace aimc::runtime {
namespace {

using Inputs = std::vector<Tensor>;

// ---- dtype dispatch ----

template <typename T>
struct Tag {
  using type = T;
};
template <typename... Ts>
struct Types {};

// f16 never reaches a kernel body: with_f16_as_f32 widens it first.
using NumericTypes =
    Types<float, double, int64_t, int32_t, int16_t, int8_t, uint64_t, uint32_t, uint16_t, uint8_t>;
using AllTypes = Types<float, double, int64_t, int32_t, int16_t, int8_t, uint64_t, uint32_t,
                       uint16_t, uint8_t, bool>;
using FloatTypes = Types<float, double>;
using BoolTypes = Types<bool>;

// Calls fn(Tag<T>{}) with the C++ type T of `dtype` when it is one of Ts, else throws naming
// the node.
template <typename... Ts, typename Fn>
auto dispatch(Types<Ts...>, const ir::Node& node, DType dtype, const Fn& fn) {
  using First = std::tuple_element_t<0, std::tuple<Ts...>>;
  std::optional<decltype(fn(Tag<First>{}))> result;
  (void)((dtype == dtype_of<Ts>() && (result.emplace(fn(Tag<Ts>{})), true)) || ...);
  if (!result) {
    throw_bad_input("{}: dtype {} is unsupported by {}", node.describe(), dtype_name(dtype),
                    node.op);
  }
  return std::move(*result);
}

// ---- inputs ----

const Tensor& input(const ir::Node& node, const Inputs& inputs, size_t i) {
  if (i >= inputs.size() || !inputs[i].is_valid()) {
    throw_bad_input("{}: input {} is missing", node.describe(), i);
  }
  return inputs[i];
}

const Tensor* optional_input(const Inputs& inputs, size_t i) {
  return i < inputs.size() && inputs[i].is_valid() ? &inputs[i] : nullptr;
}

void check_same_dtype(const ir::Node& node, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) {
    throw_bad_input("{}: operands have different dtypes {} and {}", node.describe(),
                    dtype_name(a.dtype()), dtype_name(b.dtype()));
  }
}

Shape broadcast_or_throw(const ir::Node& node, const Shape& a, const Shape& b) {
  std::optional<Shape> shape = broadcast_shapes(a, b);
  if (!shape) {
    throw_bad_input("{}: shapes {} and {} do not broadcast", node.describe(), shape_str(a),
                    shape_str(b));
  }
  return *shape;
}

// ---- integer arithmetic without undefined behaviour ----

template <typename T>
T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}

template <typename T>
T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
  } else {
    return a - b;
  }
}

template <typename T>
T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    // uint64 so that small types do not promote to a signed int that could overflow.
    return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  } else {
    return a * b;
  }
}

template <typename T>
T wrap_neg(T a) {
  return wrap_sub(T(0), a);
}

// Caller guarantees b != 0.
template <typename T>
T divide(T a, T b) {
  if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
    return b == -1 ? wrap_neg(a) : static_cast<T>(a / b);  // lowest / -1 overflows
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(a / b);
  } else {
    return a / b;
  }
}

// double -> integer T, truncating toward zero, NaN -> 0, out of range -> the nearest bound.
template <typename T>
T saturate_cast(double value) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(value);
  } else {
    if (std::isnan(value)) return 0;
    if (value >= static_cast<double>(std::numeric_limits<T>::max()))
      return std::numeric_limits<T>::max();
    if (value <= static_cast<double>(std::numeric_limits<T>::lowest()))
      return std::numeric_limits<T>::lowest();
    return static_cast<T>(value);
  }
}

// base^exponent for integers by repeated squaring (wrapping); a negative exponent gives the
// truncated reciprocal (0 unless |base| == 1, and 0 for base 0 rather than a crash).
template <typename T, typename E>
T integer_pow(T base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if constexpr (std::is_signed_v<T>) {
        if (base == -1) return (exponent % 2 == 0) ? 1 : -1;
      }
      return 0;
    }
  }
  T result = 1;
  auto remaining = static_cast<uint64_t>(exponent);
  while (remaining) {
    if (remaining & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
    remaining >>= 1;
  }
  return result;
}

// ---- loops ----

constexpr int64_t kBlock = 16384;           // elements per parallel task
constexpr int64_t kSerialElements = 32768;  // below this, threads cost more than they save

// Calls body(begin, end) over blocks of [0, n), in parallel when n is large.
template <typename Body>
void for_blocks(int64_t n, const Body& body) {
  int64_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(0, blocks, kSerialElements / kBlock,
               [&](int64_t b) { body(b * kBlock, std::min(n, (b + 1) * kBlock)); });
}

template <typename Out, typename In, typename Fn>
Tensor map_unary(const Tensor& x, const Fn& fn) {
  Tensor out(dtype_of<Out>(), x.shape());
  const In* px = x.data<In>();
  Out* po = out.data<Out>();
  for_blocks(x.numel(), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) po[i] = fn(px[i]);
  });
  return out;
}

// True when `operand` (leading 1s ignored) equals the trailing dims of `out`, so that it
// repeats every numel(operand) elements of the output.
bool is_trailing_block(const Shape& operand, const Shape& out) {
  auto first = std::find_if(operand.begin(), operand.end(), [](int64_t d) { return d != 1; });
  auto length = static_cast<size_t>(operand.end() - first);
  return length <= out.size() && std::equal(first, operand.end(), out.end() - length);
}

// out = fn(a, b) with numpy broadcasting. Contiguous fast paths for same shapes, a scalar
// operand, and a row operand repeated over the output (bias add); the general strided walk
// (broadcast_map2) otherwise.
template <typename Out, typename A, typename B, typename Fn>
Tensor map_binary(const ir::Node& node, const Tensor& a, const Tensor& b, const Fn& fn) {
  Tensor out(dtype_of<Out>(), broadcast_or_throw(node, a.shape(), b.shape()));
  int64_t n = out.numel();
  if (n == 0) return out;
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  Out* po = out.data<Out>();
  // An operand with as many elements as the output holds them in the output's order.
  bool a_full = a.numel() == n;
  bool b_full = b.numel() == n;
  if (a_full && b_full) {
    for_blocks(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = fn(pa[i], pb[i]);
    });
  } else if (a_full && b.numel() == 1) {
    const B scalar = pb[0];
    for_blocks(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = fn(pa[i], scalar);
    });
  } else if (b_full && a.numel() == 1) {
    const A scalar = pa[0];
    for_blocks(n, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) po[i] = fn(scalar, pb[i]);
    });
  } else if (a_full && is_trailing_block(b.shape(), out.shape())) {
    int64_t width = b.numel();
    parallel_for(0, n / width, std::max<int64_t>(1, kSerialElements / width), [&](int64_t row) {
      const A* ra = pa + row * width;
      Out* ro = po + row * width;
      for (int64_t j = 0; j < width; ++j) ro[j] = fn(ra[j], pb[j]);
    });
  } else if (b_full && is_trailing_block(a.shape(), out.shape())) {
    int64_t width = a.numel();
    parallel_for(0, n / width, std::max<int64_t>(1, kSerialElements / width), [&](int64_t row) {
      const B* rb = pb + row * width;
      Out* ro = po + row * width;
      for (int64_t j = 0; j < width; ++j) ro[j] = fn(pa[j], rb[j]);
    });
  } else {
    broadcast_map2<Out, A, B>(a, b, out, fn);
  }
  return out;
}

// ---- binary arithmetic ----

// a, b (same dtype, broadcastable) -> fn(a, b) in that dtype.
template <typename Types, typename Fn>
Tensor arithmetic(const ir::Node& node, const Inputs& inputs, const Fn& fn) {
  const Tensor& a = input(node, inputs, 0);
  const Tensor& b = input(node, inputs, 1);
  check_same_dtype(node, a, b);
  return dispatch(Types{}, node, a.dtype(), [&]<typename T>(Tag<T>) {
    return map_binary<T, T, T>(node, a, b, [&](T x, T y) { return static_cast<T>(fn(x, y)); });
  });
}

// Add: a[...], b[...] -> a + b (broadcast shape)
std::vector<Tensor> add_kernel(const ir::Node& node, const Inputs& inputs) {
  return {arithmetic<NumericTypes>(node, inputs, [](auto x, auto y) { return wrap_add(x, y); })};
}

// Sub: a[...], b[...] -> a - b (broadcast shape)
std::vector<Tensor> sub_kernel(const ir::Node& node, const Inputs& inputs) {
  return {arithmetic<NumericTypes>(node, inputs, [](auto x, auto y) { return wrap_sub(x, y); })};
}

// Mul: a[...], b[...] -> a * b (broadcast shape)
std::vector<Tensor> mul_kernel(const ir::Node& node, const Inputs& inputs) {
  return {arithmetic<NumericTypes>(node, inputs, [](auto x, auto y) { return wrap_mul(x, y); })};
}

// Div: a[...], b[...] -> a / b (broadcast shape); integers truncate, and a zero divisor is
// the user's error, not a crash.
std::vector<Tensor> div_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& b = input(node, inputs, 1);
  if (!dtype_is_floating(b.dtype())) {
    for (int64_t i = 0; i < b.numel(); ++i) {
      if (b.item_as_int(i) == 0) {
        throw_bad_input("{}: integer division by zero (divisor element {})", node.describe(), i);
      }
    }
  }
  return {arithmetic<NumericTypes>(node, inputs, [](auto x, auto y) { return divide(x, y); })};
}

// One element of Pow in the base's dtype.
template <typename T, typename E>
T pow_element(T base, E exponent) {
  if constexpr (std::is_same_v<T, float> && !std::is_same_v<E, double>) {
    return std::pow(base, static_cast<float>(exponent));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  } else if constexpr (std::is_floating_point_v<E>) {
    return saturate_cast<T>(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  } else {
    return integer_pow(base, exponent);
  }
}

// Pow: base[...], exponent[...] (any numeric dtype) -> base ^ exponent in base's dtype.
// Exponents other than f32 ^ f32 are widened to f64 (for a float base or a float exponent) or
// i64 (integer ^ integer), which computes the same as numpy does for ONNX's ten exponent
// dtypes, with two instantiations per base instead of ten.
std::vector<Tensor> pow_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& base = input(node, inputs, 0);
  const Tensor& exponent = input(node, inputs, 1);
  if (exponent.dtype() == DType::kBool) {
    throw_bad_input("{}: dtype bool is unsupported by Pow's exponent", node.describe());
  }
  using BaseTypes = Types<float, double, int64_t, int32_t>;
  return {dispatch(BaseTypes{}, node, base.dtype(), [&]<typename T>(Tag<T>) {
    if (std::is_same_v<T, float> && exponent.dtype() == DType::kF32) {
      return map_binary<T, T, float>(node, base, exponent, pow_element<T, float>);
    }
    if (std::is_floating_point_v<T> || dtype_is_floating(exponent.dtype())) {
      Tensor wide = exponent.cast(DType::kF64);
      return map_binary<T, T, double>(node, base, wide, pow_element<T, double>);
    }
    Tensor wide = exponent.cast(DType::kI64);
    return map_binary<T, T, int64_t>(node, base, wide, pow_element<T, int64_t>);
  })};
}

// ---- comparisons and logic ----

// a, b (same dtype, broadcastable) -> bool fn(a, b)
template <typename Types, typename Fn>
std::vector<Tensor> compare(const ir::Node& node, const Inputs& inputs, const Fn& fn) {
  const Tensor& a = input(node, inputs, 0);
  const Tensor& b = input(node, inputs, 1);
  check_same_dtype(node, a, b);
  return {dispatch(Types{}, node, a.dtype(), [&]<typename T>(Tag<T>) {
    return map_binary<bool, T, T>(node, a, b,
                                  [&](T x, T y) { return static_cast<bool>(fn(x, y)); });
  })};
}

std::vector<Tensor> equal_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<AllTypes>(node, inputs, [](auto x, auto y) { return x == y; });
}
std::vector<Tensor> less_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<NumericTypes>(node, inputs, [](auto x, auto y) { return x < y; });
}
std::vector<Tensor> greater_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<NumericTypes>(node, inputs, [](auto x, auto y) { return x > y; });
}
std::vector<Tensor> less_or_equal_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<NumericTypes>(node, inputs, [](auto x, auto y) { return x <= y; });
}
std::vector<Tensor> greater_or_equal_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<NumericTypes>(node, inputs, [](auto x, auto y) { return x >= y; });
}
std::vector<Tensor> and_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<BoolTypes>(node, inputs, [](bool x, bool y) { return x && y; });
}
std::vector<Tensor> or_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<BoolTypes>(node, inputs, [](bool x, bool y) { return x || y; });
}
std::vector<Tensor> xor_kernel(const ir::Node& node, const Inputs& inputs) {
  return compare<BoolTypes>(node, inputs, [](bool x, bool y) { return x != y; });
}

// Not: x[...] bool -> !x
std::vector<Tensor> not_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  return {dispatch(BoolTypes{}, node, x.dtype(),
                   [&](Tag<bool>) { return map_unary<bool, bool>(x, [](bool v) { return !v; }); })};
}

// Where: condition[...] bool, x[...], y[...] -> condition ? x : y (broadcast of all three)
std::vector<Tensor> where_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& condition = input(node, inputs, 0);
  const Tensor& x = input(node, inputs, 1);
  const Tensor& y = input(node, inputs, 2);
  if (condition.dtype() != DType::kBool) {
    throw_bad_input("{}: condition must be bool, not {}", node.describe(),
                    dtype_name(condition.dtype()));
  }
  check_same_dtype(node, x, y);
  Shape shape =
      broadcast_or_throw(node, broadcast_or_throw(node, condition.shape(), x.shape()), y.shape());
  return {dispatch(AllTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    Tensor out(dtype_of<T>(), shape);
    broadcast_map3<T, bool, T, T>(condition, x, y, out, [](bool c, T a, T b) { return c ? a : b; });
    return out;
  })};
}

// ---- variadic ----

// inputs[0..n) (same dtype, broadcastable) -> fn(...fn(fn(in0, in1), in2)...)
template <typename Types, typename Fn>
Tensor fold_inputs(const ir::Node& node, const Inputs& inputs, const Fn& fn) {
  Tensor result = input(node, inputs, 0);
  for (size_t i = 1; i < inputs.size(); ++i) {
    const Tensor& next = input(node, inputs, i);
    check_same_dtype(node, result, next);
    result = dispatch(Types{}, node, result.dtype(), [&]<typename T>(Tag<T>) {
      return map_binary<T, T, T>(node, result, next,
                                 [&](T x, T y) { return static_cast<T>(fn(x, y)); });
    });
  }
  return result;
}

// numpy's maximum/minimum: a NaN operand gives NaN.
template <typename T>
T max_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(x)) return x;
  }
  return x > y ? x : y;
}

template <typename T>
T min_of(T x, T y) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(x)) return x;
  }
  return x < y ? x : y;
}

// Max: in0[...], in1[...], ... -> elementwise maximum (broadcast shape)
std::vector<Tensor> max_kernel(const ir::Node& node, const Inputs& inputs) {
  return {fold_inputs<NumericTypes>(node, inputs, [](auto x, auto y) { return max_of(x, y); })};
}

// Min: in0[...], in1[...], ... -> elementwise minimum (broadcast shape)
std::vector<Tensor> min_kernel(const ir::Node& node, const Inputs& inputs) {
  return {fold_inputs<NumericTypes>(node, inputs, [](auto x, auto y) { return min_of(x, y); })};
}

// ONNX defines Sum and Mean on floats only; the integer types are the ones aimc took before it
// had the others.
using SumTypes = Types<float, double, int64_t, int32_t, int8_t>;

// Sum: in0[...], in1[...], ... -> elementwise sum (broadcast shape)
std::vector<Tensor> sum_kernel(const ir::Node& node, const Inputs& inputs) {
  return {fold_inputs<SumTypes>(node, inputs, [](auto x, auto y) { return wrap_add(x, y); })};
}

// Mean: in0[...], in1[...], ... -> elementwise sum / count (broadcast shape)
std::vector<Tensor> mean_kernel(const ir::Node& node, const Inputs& inputs) {
  Tensor sum = fold_inputs<SumTypes>(node, inputs, [](auto x, auto y) { return wrap_add(x, y); });
  auto count = static_cast<int64_t>(inputs.size());
  return {dispatch(SumTypes{}, node, sum.dtype(), [&]<typename T>(Tag<T>) {
    return map_unary<T, T>(sum, [&](T v) { return divide(v, static_cast<T>(count)); });
  })};
}

// ---- unary ----

// x[...] f32 or f64 -> fn(x) in the same dtype
template <typename Fn>
std::vector<Tensor> float_unary(const ir::Node& node, const Inputs& inputs, const Fn& fn) {
  const Tensor& x = input(node, inputs, 0);
  return {dispatch(FloatTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    return map_unary<T, T>(x, [&](T v) { return static_cast<T>(fn(v)); });
  })};
}

// x[...] numeric -> fn(x) in the same dtype
template <typename Fn>
std::vector<Tensor> numeric_unary(const ir::Node& node, const Inputs& inputs, const Fn& fn) {
  const Tensor& x = input(node, inputs, 0);
  return {dispatch(NumericTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    return map_unary<T, T>(x, [&](T v) { return static_cast<T>(fn(v)); });
  })};
}

template <typename T>
T sigmoid(T x) {
  // For very negative x, exp(-x) overflows to inf and the result is the correct 0.
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T>
T softplus(T x) {
  // ln(1 + e^x) = x + ln(1 + e^-x): the second form keeps large x from overflowing.
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

std::vector<Tensor> sqrt_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::sqrt(x); });
}
std::vector<Tensor> erf_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::erf(x); });
}
std::vector<Tensor> tanh_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::tanh(x); });
}
// f32 Sigmoid 8 lanes at a time through libmvec's AVX2 expf (_ZGVdN8v_expf, a few ulp, as
// GELU's erf in kernels_norm.cpp). Returns where it stopped: `begin` without AVX2, else after
// the last full group of 8. Blocks start at multiples of 8, so results do not depend on the
// thread count.
extern "C" __attribute__((target("avx2"))) __m256 _ZGVdN8v_expf(__m256 x);

__attribute__((target("avx2"))) int64_t sigmoid_avx2_impl(const float* x, float* y, int64_t begin,
                                                          int64_t end) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    __m256 e = _ZGVdN8v_expf(_mm256_sub_ps(zero, _mm256_loadu_ps(x + i)));
    _mm256_storeu_ps(y + i, _mm256_div_ps(one, _mm256_add_ps(one, e)));
  }
  return i;
}

std::vector<Tensor> sigmoid_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  if (x.dtype() != DType::kF32) return float_unary(node, inputs, [](auto v) { return sigmoid(v); });
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  Tensor out(DType::kF32, x.shape());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for_blocks(x.numel(), [&](int64_t begin, int64_t end) {
    int64_t i = has_avx2 ? sigmoid_avx2_impl(px, po, begin, end) : begin;
    for (; i < end; ++i) po[i] = sigmoid(px[i]);
  });
  return {out};
}
std::vector<Tensor> exp_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::exp(x); });
}
std::vector<Tensor> log_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::log(x); });
}
std::vector<Tensor> reciprocal_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return decltype(x)(1) / x; });
}
std::vector<Tensor> floor_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::floor(x); });
}
std::vector<Tensor> ceil_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::ceil(x); });
}
std::vector<Tensor> softplus_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return softplus(x); });
}

// The attributes are float32 in ONNX: as such they enter f32 and f64 arithmetic alike.

// LeakyRelu: x[...] -> x < 0 ? alpha * x : x
std::vector<Tensor> leaky_relu_kernel(const ir::Node& node, const Inputs& inputs) {
  auto alpha = static_cast<float>(node.attr_float("alpha", 0.01));
  return float_unary(node, inputs, [alpha](auto x) {
    using T = decltype(x);
    return x < 0 ? static_cast<T>(alpha) * x : x;
  });
}

// Elu: x[...] -> x < 0 ? alpha * (exp(x) - 1) : x
std::vector<Tensor> elu_kernel(const ir::Node& node, const Inputs& inputs) {
  auto alpha = static_cast<float>(node.attr_float("alpha", 1.0));
  return float_unary(node, inputs, [alpha](auto x) {
    using T = decltype(x);
    return x < 0 ? static_cast<T>(alpha) * std::expm1(x) : x;
  });
}

// HardSigmoid: x[...] -> clamp(alpha * x + beta, 0, 1)
std::vector<Tensor> hard_sigmoid_kernel(const ir::Node& node, const Inputs& inputs) {
  auto alpha = static_cast<float>(node.attr_float("alpha", 0.2));
  auto beta = static_cast<float>(node.attr_float("beta", 0.5));
  return float_unary(node, inputs, [alpha, beta](auto x) {
    using T = decltype(x);
    return std::max(T(0), std::min(T(1), static_cast<T>(alpha) * x + static_cast<T>(beta)));
  });
}

// ---- trigonometric, rounding and further activations (float unless noted) ----

std::vector<Tensor> sin_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::sin(x); });
}
std::vector<Tensor> cos_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::cos(x); });
}
std::vector<Tensor> tan_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::tan(x); });
}
std::vector<Tensor> asin_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::asin(x); });
}
std::vector<Tensor> acos_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::acos(x); });
}
std::vector<Tensor> atan_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::atan(x); });
}
std::vector<Tensor> sinh_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::sinh(x); });
}
std::vector<Tensor> cosh_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::cosh(x); });
}
std::vector<Tensor> asinh_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::asinh(x); });
}
std::vector<Tensor> acosh_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::acosh(x); });
}
std::vector<Tensor> atanh_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::atanh(x); });
}
// Round: half to even, as numpy.round and the ONNX reference do (the default FE_TONEAREST).
std::vector<Tensor> round_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return std::nearbyint(x); });
}
std::vector<Tensor> softsign_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) { return x / (decltype(x)(1) + std::fabs(x)); });
}

// HardSwish: x[...] -> x * max(0, min(1, x / 6 + 1/2))
std::vector<Tensor> hard_swish_kernel(const ir::Node& node, const Inputs& inputs) {
  return float_unary(node, inputs, [](auto x) {
    using T = decltype(x);
    return x * std::max(T(0), std::min(T(1), x / T(6) + T(0.5)));
  });
}

// Selu: x[...] -> gamma * (x > 0 ? x : alpha * (exp(x) - 1))
std::vector<Tensor> selu_kernel(const ir::Node& node, const Inputs& inputs) {
  auto alpha = static_cast<float>(node.attr_float("alpha", 1.67326319217681884765625));
  auto gamma = static_cast<float>(node.attr_float("gamma", 1.05070102214813232421875));
  return float_unary(node, inputs, [alpha, gamma](auto x) {
    using T = decltype(x);
    return static_cast<T>(gamma) * (x > 0 ? x : static_cast<T>(alpha) * std::expm1(x));
  });
}

// Celu: x[...] -> max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
std::vector<Tensor> celu_kernel(const ir::Node& node, const Inputs& inputs) {
  auto alpha = static_cast<float>(node.attr_float("alpha", 1.0));
  if (alpha == 0) throw_bad_input("{}: alpha must not be 0", node.describe());
  return float_unary(node, inputs, [alpha](auto x) {
    using T = decltype(x);
    T a = static_cast<T>(alpha);
    return std::max(T(0), x) + std::min(T(0), a * std::expm1(x / a));
  });
}

// ThresholdedRelu: x[...] -> x > alpha ? x : 0
std::vector<Tensor> thresholded_relu_kernel(const ir::Node& node, const Inputs& inputs) {
  auto alpha = static_cast<float>(node.attr_float("alpha", 1.0));
  return float_unary(node, inputs, [alpha](auto x) {
    using T = decltype(x);
    return x > static_cast<T>(alpha) ? x : T(0);
  });
}

// Shrink: x[...] numeric -> x < -lambd ? x + bias : (x > lambd ? x - bias : 0)
std::vector<Tensor> shrink_kernel(const ir::Node& node, const Inputs& inputs) {
  double bias = static_cast<float>(node.attr_float("bias", 0.0));
  double lambd = static_cast<float>(node.attr_float("lambd", 0.5));
  return numeric_unary(node, inputs, [bias, lambd](auto x) {
    using T = decltype(x);
    auto v = static_cast<double>(x);
    if (v < -lambd) return saturate_cast<T>(v + bias);
    if (v > lambd) return saturate_cast<T>(v - bias);
    return T(0);
  });
}

// Sign: x[...] numeric -> -1, 0 or 1 (NaN stays NaN)
std::vector<Tensor> sign_kernel(const ir::Node& node, const Inputs& inputs) {
  return numeric_unary(node, inputs, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(x)) return x;
    }
    if constexpr (std::is_unsigned_v<T>) {
      return static_cast<T>(x > 0 ? 1 : 0);
    } else {
      return static_cast<T>(x > 0 ? 1 : (x < 0 ? -1 : 0));
    }
  });
}

// IsNaN: x[...] float -> bool
std::vector<Tensor> is_nan_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  return {dispatch(FloatTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    return map_unary<bool, T>(x, [](T v) { return std::isnan(v); });
  })};
}

// IsInf: x[...] float -> bool; detect_negative / detect_positive select the infinities.
std::vector<Tensor> is_inf_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  bool negative = node.attr_int("detect_negative", 1) != 0;
  bool positive = node.attr_int("detect_positive", 1) != 0;
  return {dispatch(FloatTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    return map_unary<bool, T>(x, [negative, positive](T v) {
      return std::isinf(v) && ((v > 0 && positive) || (v < 0 && negative));
    });
  })};
}

// Mod: a[...], b[...] -> remainder (broadcast). fmod = 0: the sign of the divisor (Python's
// %; integers, and floats as numpy.mod); fmod = 1: the sign of the dividend (C's fmod). An
// integer divisor of 0 is the user's error.
std::vector<Tensor> mod_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& b = input(node, inputs, 1);
  bool fmod = node.attr_int("fmod", 0) != 0;
  if (!dtype_is_floating(b.dtype())) {
    for (int64_t i = 0; i < b.numel(); ++i)
      if (b.item_as_int(i) == 0)
        throw_bad_input("{}: integer modulo by zero (divisor element {})", node.describe(), i);
  }
  return {arithmetic<NumericTypes>(node, inputs, [fmod](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      T r = std::fmod(x, y);
      if (!fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
      return r;
    } else if constexpr (std::is_signed_v<T>) {
      if (y == -1) return T(0);  // lowest % -1 overflows
      T r = static_cast<T>(x % y);
      if (!fmod && r != 0 && ((r < 0) != (y < 0))) r = static_cast<T>(r + y);
      return r;
    } else {
      return static_cast<T>(x % y);
    }
  })};
}

// PRelu: x[...], slope (broadcastable to x) -> x < 0 ? slope * x : x, in x's shape.
std::vector<Tensor> prelu_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  const Tensor& slope = input(node, inputs, 1);
  if (broadcast_or_throw(node, x.shape(), slope.shape()) != x.shape())
    throw_bad_input("{}: slope {} does not broadcast to the input {}", node.describe(),
                    shape_str(slope.shape()), shape_str(x.shape()));
  return {arithmetic<NumericTypes>(node, inputs, [](auto v, auto a) {
    using T = decltype(v);
    if constexpr (std::is_unsigned_v<T>) {
      return v;
    } else {
      return v < 0 ? wrap_mul(a, v) : v;
    }
  })};
}

// CastLike: x[...], like[...] -> x converted to like's dtype
std::vector<Tensor> cast_like_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  DType to = input(node, inputs, 1).dtype();
  return {x.dtype() == to ? x : x.cast(to)};
}

// Relu: x[...] -> max(x, 0); NaN passes through like numpy's maximum.
std::vector<Tensor> relu_kernel(const ir::Node& node, const Inputs& inputs) {
  return numeric_unary(node, inputs, [](auto x) {
    if constexpr (std::is_unsigned_v<decltype(x)>) {
      return x;
    } else {
      return x < 0 ? decltype(x)(0) : x;
    }
  });
}

// Neg: x[...] -> -x
std::vector<Tensor> neg_kernel(const ir::Node& node, const Inputs& inputs) {
  return numeric_unary(node, inputs, [](auto x) { return wrap_neg(x); });
}

// Abs: x[...] -> |x|
std::vector<Tensor> abs_kernel(const ir::Node& node, const Inputs& inputs) {
  return numeric_unary(node, inputs, [](auto x) {
    if constexpr (std::is_floating_point_v<decltype(x)>) {
      return std::fabs(x);
    } else if constexpr (std::is_unsigned_v<decltype(x)>) {
      return x;
    } else {
      return x < 0 ? wrap_neg(x) : x;
    }
  });
}

// Clip: x[...], min[] (optional), max[] (optional) -> min(max(x, min), max)
std::vector<Tensor> clip_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  const Tensor* min_input = optional_input(inputs, 1);
  const Tensor* max_input = optional_input(inputs, 2);
  for (const Tensor* bound : {min_input, max_input}) {
    if (!bound) continue;
    check_same_dtype(node, x, *bound);
    if (bound->numel() != 1) {
      throw_bad_input("{}: min and max must be scalars, got shape {}", node.describe(),
                      shape_str(bound->shape()));
    }
  }
  return {dispatch(NumericTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    // Before opset 11 the bounds were float attributes.
    T low = min_input ? min_input->data<T>()[0]
                      : saturate_cast<T>(node.attr_float(
                            "min", static_cast<double>(std::numeric_limits<T>::lowest())));
    T high = max_input ? max_input->data<T>()[0]
                       : saturate_cast<T>(node.attr_float(
                             "max", static_cast<double>(std::numeric_limits<T>::max())));
    // Comparisons (not std::clamp) so that NaN stays NaN and min > max gives max, as in numpy.
    return map_unary<T, T>(x, [low, high](T v) {
      if (v < low) v = low;
      if (v > high) v = high;
      return v;
    });
  })};
}

// Cast: x[...] -> x converted to the dtype `to` (an ONNX TensorProto code)
std::vector<Tensor> cast_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  int64_t to = node.require_int("to");
  std::optional<DType> dtype = dtype_from_onnx_code(to);
  if (!dtype) {
    throw_bad_input("{}: cast to ONNX dtype {} is unsupported (aimc supports {})", node.describe(),
                    to, kSupportedOnnxDtypeCodes);
  }
  return {x.dtype() == *dtype ? x : x.cast(*dtype)};
}

// Identity: x[...] -> x (tensors are never written in place, so the storage is shared)
std::vector<Tensor> identity_kernel(const ir::Node& node, const Inputs& inputs) {
  return {input(node, inputs, 0)};
}

// Dropout: x[...], ratio[] (optional), training_mode[] (optional) -> x, mask[...] all true.
// aimc runs inference only; a training-mode Dropout that would drop something is refused.
std::vector<Tensor> dropout_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  const Tensor* ratio = optional_input(inputs, 1);
  const Tensor* training_mode = optional_input(inputs, 2);
  if (training_mode && training_mode->numel() > 0 && training_mode->item_as_int(0) != 0) {
    double drop_ratio = ratio && ratio->numel() > 0 ? ratio->item_as_double(0) : 0.5;
    if (drop_ratio != 0) {
      throw_bad_input(
          "{}: training-mode Dropout (ratio {}) is unsupported; aimc runs inference "
          "only",
          node.describe(), drop_ratio);
    }
  }
  std::vector<Tensor> outputs{x};
  if (node.outputs.size() > 1) {
    Tensor mask(DType::kBool, x.shape());
    std::fill_n(mask.data<bool>(), mask.numel(), true);
    outputs.push_back(mask);
  }
  return outputs;
}

// ---- reductions ----

// How to walk a reduction: the input seen as [outer..., reduced..., width] where `width`
// trailing kept elements are reduced side by side. Dimensions of size 1 are dropped and
// neighbours of the same kind merged, so the common cases are one or two loops.
struct ReducePlan {
  Shape out_shape;
  int64_t width = 1;
  std::vector<int64_t> kept_dims, kept_strides;        // outer positions, in input elements
  std::vector<int64_t> reduced_dims, reduced_strides;  // reduced positions, in input elements
  int64_t outer_count = 1;
  int64_t reduce_count = 1;
};

ReducePlan make_reduce_plan(const Shape& shape, const std::vector<bool>& reduced, bool keepdims) {
  ReducePlan plan;
  Shape strides = shape_strides(shape);
  struct Group {
    int64_t size;
    int64_t stride;
    bool reduced;
  };
  std::vector<Group> groups;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d] || keepdims) plan.out_shape.push_back(reduced[d] ? 1 : shape[d]);
    if (shape[d] == 1) continue;
    if (!groups.empty() && groups.back().reduced == reduced[d]) {
      groups.back().size *= shape[d];
      groups.back().stride = strides[d];
    } else {
      groups.push_back({shape[d], strides[d], reduced[d]});
    }
  }
  if (!groups.empty() && !groups.back().reduced) {
    plan.width = groups.back().size;
    groups.pop_back();
  }
  for (const Group& g : groups) {
    (g.reduced ? plan.reduced_dims : plan.kept_dims).push_back(g.size);
    (g.reduced ? plan.reduced_strides : plan.kept_strides).push_back(g.stride);
    (g.reduced ? plan.reduce_count : plan.outer_count) *= g.size;
  }
  return plan;
}

// Input offsets of every reduced position, in row-major order of the reduced dims.
std::vector<int64_t> reduced_offsets(const ReducePlan& plan) {
  std::vector<int64_t> offsets{0};
  for (size_t d = 0; d < plan.reduced_dims.size(); ++d) {
    std::vector<int64_t> next;
    next.reserve(offsets.size() * static_cast<size_t>(plan.reduced_dims[d]));
    for (int64_t base : offsets) {
      for (int64_t i = 0; i < plan.reduced_dims[d]; ++i) {
        next.push_back(base + i * plan.reduced_strides[d]);
      }
    }
    offsets = std::move(next);
  }
  return offsets;
}

// Reducers: init() -> accumulator, add(acc, x), finish(acc, count) -> output element.
// Float inputs accumulate in double; integers in 64 bits of their signedness (wrapping) or in
// their own type.
template <typename T>
using WideAcc = std::conditional_t<std::is_floating_point_v<T>, double,
                                   std::conditional_t<std::is_unsigned_v<T>, uint64_t, int64_t>>;

template <typename T>
struct SumReducer {
  using Acc = WideAcc<T>;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const { acc = wrap_add(acc, static_cast<Acc>(x)); }
  T finish(Acc acc, int64_t) const { return static_cast<T>(acc); }
};

template <typename T>
struct MeanReducer {
  using Acc = WideAcc<T>;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const { acc = wrap_add(acc, static_cast<Acc>(x)); }
  T finish(Acc acc, int64_t count) const {
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(acc / static_cast<double>(count));  // 0/0: NaN like numpy
    } else {
      return count == 0 ? T(0) : static_cast<T>(divide<Acc>(acc, static_cast<Acc>(count)));
    }
  }
};

template <typename T>
struct ProdReducer {
  using Acc = WideAcc<T>;
  Acc init() const { return 1; }
  void add(Acc& acc, T x) const { acc = wrap_mul(acc, static_cast<Acc>(x)); }
  T finish(Acc acc, int64_t) const { return static_cast<T>(acc); }
};

template <typename T>
struct SumSquareReducer {
  using Acc = WideAcc<T>;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const {
    acc = wrap_add(acc, wrap_mul(static_cast<Acc>(x), static_cast<Acc>(x)));
  }
  T finish(Acc acc, int64_t) const { return static_cast<T>(acc); }
};

template <typename T>
struct L1Reducer {
  using Acc = WideAcc<T>;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const {
    auto wide = static_cast<Acc>(x);
    if constexpr (std::is_signed_v<Acc>) {
      if (wide < 0) wide = wrap_neg(wide);
    }
    acc = wrap_add(acc, wide);
  }
  T finish(Acc acc, int64_t) const { return static_cast<T>(acc); }
};

template <typename T>
struct L2Reducer {
  using Acc = double;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const { acc += static_cast<double>(x) * static_cast<double>(x); }
  T finish(Acc acc, int64_t) const { return saturate_cast<T>(std::sqrt(acc)); }
};

template <typename T>
struct LogSumExpReducer {
  using Acc = double;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const { acc += std::exp(static_cast<double>(x)); }
  T finish(Acc acc, int64_t) const { return saturate_cast<T>(std::log(acc)); }
};

template <typename T>
struct LogSumReducer {
  using Acc = double;
  Acc init() const { return 0; }
  void add(Acc& acc, T x) const { acc += static_cast<double>(x); }
  T finish(Acc acc, int64_t) const { return saturate_cast<T>(std::log(acc)); }
};

template <typename T>
struct MaxReducer {
  using Acc = T;
  // An empty reduction gives the identity of max (ONNX opset 18 spells this out).
  Acc init() const {
    if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  void add(Acc& acc, T x) const { acc = max_of(x, acc); }
  T finish(Acc acc, int64_t) const { return acc; }
};

template <typename T>
struct MinReducer {
  using Acc = T;
  Acc init() const {
    if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::max();
  }
  void add(Acc& acc, T x) const { acc = min_of(x, acc); }
  T finish(Acc acc, int64_t) const { return acc; }
};

// Offset of outer position `outer` (row-major over the kept dims).
int64_t kept_offset(const ReducePlan& plan, int64_t outer) {
  int64_t offset = 0;
  for (size_t d = plan.kept_dims.size(); d-- > 0;) {
    offset += (outer % plan.kept_dims[d]) * plan.kept_strides[d];
    outer /= plan.kept_dims[d];
  }
  return offset;
}

// out[outer * width + k] = reduce over r of x[kept_offset(outer) + offset_of(r) + k]
template <typename T, typename Reducer, typename OffsetFn>
void reduce_loop(const T* x, T* out, const ReducePlan& plan, const Reducer& reducer,
                 const OffsetFn& offset_of) {
  using Acc = typename Reducer::Acc;
  int64_t width = plan.width;
  int64_t count = plan.reduce_count;
  int64_t grain = std::max<int64_t>(1, kSerialElements / std::max<int64_t>(1, count * width));
  parallel_for(0, plan.outer_count, grain, [&](int64_t outer) {
    const T* base = x + kept_offset(plan, outer);
    if (width == 1) {
      Acc acc = reducer.init();
      for (int64_t r = 0; r < count; ++r) reducer.add(acc, base[offset_of(r)]);
      out[outer] = reducer.finish(acc, count);
      return;
    }
    // Reduce `width` neighbouring columns together so that every read is contiguous.
    std::vector<Acc> acc(static_cast<size_t>(width), reducer.init());
    for (int64_t r = 0; r < count; ++r) {
      const T* row = base + offset_of(r);
      for (int64_t k = 0; k < width; ++k) reducer.add(acc[static_cast<size_t>(k)], row[k]);
    }
    T* out_row = out + outer * width;
    for (int64_t k = 0; k < width; ++k) {
      out_row[k] = reducer.finish(acc[static_cast<size_t>(k)], count);
    }
  });
}

template <typename T, typename Reducer>
Tensor run_reduction(const Tensor& x, const ReducePlan& plan, const Reducer& reducer) {
  Tensor out(x.dtype(), plan.out_shape);
  if (out.numel() == 0) return out;
  const T* px = x.data<T>();
  T* po = out.data<T>();
  if (plan.reduced_dims.size() <= 1) {
    int64_t stride = plan.reduced_dims.empty() ? 0 : plan.reduced_strides[0];
    reduce_loop(px, po, plan, reducer, [stride](int64_t r) { return r * stride; });
  } else {
    std::vector<int64_t> offsets = reduced_offsets(plan);
    reduce_loop(px, po, plan, reducer,
                [&offsets](int64_t r) { return offsets[static_cast<size_t>(r)]; });
  }
  return out;
}

// Reads axes from the optional second input (ReduceSum 13+, all reductions from opset 18) or
// the `axes` attribute, and returns which input dims are reduced; nullopt means "return the
// input unchanged" (noop_with_empty_axes with no axes).
std::optional<std::vector<bool>> reduced_dims_of(const ir::Node& node, const Inputs& inputs,
                                                 int64_t rank) {
  const Tensor* axes_input = optional_input(inputs, 1);
  std::vector<int64_t> axes = axes_input ? axes_input->to_int_vector() : node.attr_ints("axes");
  std::vector<bool> reduced(static_cast<size_t>(rank), axes.empty());
  if (axes.empty()) {
    if (node.attr_int("noop_with_empty_axes", 0) != 0) return std::nullopt;
    return reduced;
  }
  for (int64_t axis : axes) {
    int64_t normalized = axis < 0 ? axis + rank : axis;
    if (normalized < 0 || normalized >= rank) {
      throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
    }
    if (reduced[static_cast<size_t>(normalized)]) {
      throw_bad_input("{}: axis {} is given twice", node.describe(), axis);
    }
    reduced[static_cast<size_t>(normalized)] = true;
  }
  return reduced;
}

// x[...] -> reduction over the node's axes (kept as size 1 when keepdims)
template <template <typename> class Reducer>
std::vector<Tensor> reduce_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  std::optional<std::vector<bool>> reduced = reduced_dims_of(node, inputs, x.rank());
  if (!reduced) return {x};
  ReducePlan plan = make_reduce_plan(x.shape(), *reduced, node.attr_int("keepdims", 1) != 0);
  return {dispatch(NumericTypes{}, node, x.dtype(),
                   [&]<typename T>(Tag<T>) { return run_reduction<T>(x, plan, Reducer<T>{}); })};
}

// ArgMax / ArgMin: x[outer, n, inner] -> i64 index along the axis of the extreme element
template <bool kMax>
std::vector<Tensor> arg_reduce_kernel(const ir::Node& node, const Inputs& inputs) {
  const Tensor& x = input(node, inputs, 0);
  int64_t rank = x.rank();
  int64_t axis = node.attr_int("axis", 0);
  int64_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    throw_bad_input("{}: axis {} is out of range for rank {}", node.describe(), axis, rank);
  }
  bool keepdims = node.attr_int("keepdims", 1) != 0;
  bool select_last = node.attr_int("select_last_index", 0) != 0;
  const Shape& shape = x.shape();
  auto axis_index = static_cast<size_t>(normalized);
  int64_t n = shape[axis_index];
  if (n == 0) {
    throw_bad_input("{}: cannot take the index of an extreme along an empty axis", node.describe());
  }
  int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + normalized));
  int64_t inner = shape_numel(Shape(shape.begin() + normalized + 1, shape.end()));
  Shape out_shape = shape;
  if (keepdims) {
    out_shape[axis_index] = 1;
  } else {
    out_shape.erase(out_shape.begin() + normalized);
  }
  Tensor out(DType::kI64, out_shape);
  int64_t* po = out.data<int64_t>();
  dispatch(NumericTypes{}, node, x.dtype(), [&]<typename T>(Tag<T>) {
    const T* px = x.data<T>();
    parallel_for(0, outer * inner, std::max<int64_t>(1, kSerialElements / n), [&](int64_t i) {
      const T* column = px + (i / inner) * n * inner + i % inner;
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j) {
        T value = column[j * inner];
        T best_value = column[best * inner];
        bool better = kMax ? value > best_value : value < best_value;
        if (better || (select_last && value == best_value)) best = j;
      }
      po[i] = best;
    });
    return 0;
  });
  return {out};
}

// f16 runs as f32: f16 inputs are widened, and the kernel's f32 outputs are rounded back to
// f16 when input `typed_input` (the one that gives the output its dtype) was f16. A single f32
// operation rounded to f16 is the correctly rounded f16 result, as a float holds more than
// twice a half's precision; reductions accumulate in double as for f32. Only Pow may mix f16
// with f32 (its exponent has a dtype of its own); elsewhere the mix is the user's error, which
// widening would hide from the kernel.
KernelFn with_f16_as_f32(KernelFn kernel, size_t typed_input, bool may_mix_with_f32) {
  return [kernel = std::move(kernel), typed_input, may_mix_with_f32](const ir::Node& node,
                                                                     const Inputs& inputs) {
    auto is_f16 = [](const Tensor& t) { return t.is_valid() && t.dtype() == DType::kF16; };
    auto is_f32 = [](const Tensor& t) { return t.is_valid() && t.dtype() == DType::kF32; };
    if (std::none_of(inputs.begin(), inputs.end(), is_f16)) return kernel(node, inputs);
    if (!may_mix_with_f32 && std::any_of(inputs.begin(), inputs.end(), is_f32)) {
      throw_bad_input("{}: operands have different dtypes f16 and f32", node.describe());
    }
    Inputs widened = inputs;
    for (Tensor& t : widened) {
      if (is_f16(t)) t = t.cast(DType::kF32);
    }
    std::vector<Tensor> outputs = kernel(node, widened);
    if (typed_input < inputs.size() && is_f16(inputs[typed_input])) {
      for (Tensor& t : outputs) {
        if (t.is_valid() && t.dtype() == DType::kF32) t = t.cast(DType::kF16);
      }
    }
    return outputs;
  };
}

// The kernels of every op but Cast, CastLike, Identity and Dropout, keyed by op name.
void register_numeric_kernels(KernelRegistry& registry) {
  registry.add("Add", add_kernel);
  registry.add("Sub", sub_kernel);
  registry.add("Mul", mul_kernel);
  registry.add("Div", div_kernel);
  registry.add("Pow", pow_kernel);
  registry.add("Equal", equal_kernel);
  registry.add("Less", less_kernel);
  registry.add("Greater", greater_kernel);
  registry.add("LessOrEqual", less_or_equal_kernel);
  registry.add("GreaterOrEqual", greater_or_equal_kernel);
  registry.add("And", and_kernel);
  registry.add("Or", or_kernel);
  registry.add("Xor", xor_kernel);
  registry.add("Not", not_kernel);
  registry.add("Where", where_kernel);
  registry.add("Max", max_kernel);
  registry.add("Min", min_kernel);
  registry.add("Sum", sum_kernel);
  registry.add("Mean", mean_kernel);
  registry.add("Sqrt", sqrt_kernel);
  registry.add("Erf", erf_kernel);
  registry.add("Tanh", tanh_kernel);
  registry.add("Sigmoid", sigmoid_kernel);
  registry.add("Exp", exp_kernel);
  registry.add("Log", log_kernel);
  registry.add("Reciprocal", reciprocal_kernel);
  registry.add("Floor", floor_kernel);
  registry.add("Ceil", ceil_kernel);
  registry.add("Softplus", softplus_kernel);
  registry.add("LeakyRelu", leaky_relu_kernel);
  registry.add("Elu", elu_kernel);
  registry.add("HardSigmoid", hard_sigmoid_kernel);
  registry.add("Relu", relu_kernel);
  registry.add("Sin", sin_kernel);
  registry.add("Cos", cos_kernel);
  registry.add("Tan", tan_kernel);
  registry.add("Asin", asin_kernel);
  registry.add("Acos", acos_kernel);
  registry.add("Atan", atan_kernel);
  registry.add("Sinh", sinh_kernel);
  registry.add("Cosh", cosh_kernel);
  registry.add("Asinh", asinh_kernel);
  registry.add("Acosh", acosh_kernel);
  registry.add("Atanh", atanh_kernel);
  registry.add("Round", round_kernel);
  registry.add("Softsign", softsign_kernel);
  registry.add("HardSwish", hard_swish_kernel);
  registry.add("Selu", selu_kernel);
  registry.add("Celu", celu_kernel);
  registry.add("ThresholdedRelu", thresholded_relu_kernel);
  registry.add("Shrink", shrink_kernel);
  registry.add("Sign", sign_kernel);
  registry.add("IsNaN", is_nan_kernel);
  registry.add("IsInf", is_inf_kernel);
  registry.add("Mod", mod_kernel);
  registry.add("PRelu", prelu_kernel);
  registry.add("Neg", neg_kernel);
  registry.add("Abs", abs_kernel);
  registry.add("Clip", clip_kernel);
  registry.add("ReduceSum", reduce_kernel<SumReducer>);
  registry.add("ReduceMean", reduce_kernel<MeanReducer>);
  registry.add("ReduceProd", reduce_kernel<ProdReducer>);
  registry.add("ReduceSumSquare", reduce_kernel<SumSquareReducer>);
  registry.add("ReduceL1", reduce_kernel<L1Reducer>);
  registry.add("ReduceL2", reduce_kernel<L2Reducer>);
  registry.add("ReduceLogSumExp", reduce_kernel<LogSumExpReducer>);
  registry.add("ReduceLogSum", reduce_kernel<LogSumReducer>);
  registry.add("ReduceMax", reduce_kernel<MaxReducer>);
  registry.add("ReduceMin", reduce_kernel<MinReducer>);
  registry.add("ArgMax", arg_reduce_kernel<true>);
  registry.add("ArgMin", arg_reduce_kernel<false>);
}

}  // namespace

void register_elementwise_kernels(KernelRegistry& registry) {
  // Every kernel but Cast, Identity and Dropout (which take f16 as it is) computes f16 in f32.
  KernelRegistry numeric;
  register_numeric_kernels(numeric);
  for (const std::string& op : numeric.names()) {
    registry.add(op, with_f16_as_f32(*numeric.find(op), op == "Where" ? 1 : 0, op == "Pow"));
  }
  registry.add("Cast", cast_kernel);
  registry.add("CastLike", cast_like_kernel);
  registry.add("Identity", identity_kernel);
  registry.add("Dropout", dropout_kernel);
}

}  // namespace aimc::runtime
