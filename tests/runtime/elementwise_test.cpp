// Elementwise and reduction kernels: hand-computed cases, the fast broadcast paths against the
// general strided path, and reductions against a plain loop over every element.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "aimc/runtime/broadcast.h"
#include "aimc/runtime/kernel.h"

namespace aimc::runtime {
namespace {

const KernelRegistry& elementwise_kernels() {
  static const KernelRegistry registry = [] {
    KernelRegistry r;
    register_elementwise_kernels(r);
    return r;
  }();
  return registry;
}

std::vector<Tensor> run_op(const std::string& op, const std::vector<Tensor>& inputs,
                           const std::map<std::string, ir::AttrValue>& attrs = {},
                           size_t num_outputs = 1) {
  ir::Node node;
  node.op = op;
  node.name = "test_" + op;
  node.attrs = attrs;
  node.outputs.assign(num_outputs, nullptr);
  const KernelFn* kernel = elementwise_kernels().find(op);
  EXPECT_NE(kernel, nullptr) << op;
  return (*kernel)(node, inputs);
}

Tensor run1(const std::string& op, const std::vector<Tensor>& inputs,
            const std::map<std::string, ir::AttrValue>& attrs = {}) {
  return run_op(op, inputs, attrs).at(0);
}

template <typename T>
std::vector<T> values_of(const Tensor& t) {
  auto span = t.values<T>();
  return {span.begin(), span.end()};
}

Tensor random_f32(const Shape& shape, uint32_t seed, float low = -2.f, float high = 2.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(low, high);
  Tensor t(DType::kF32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

// Error message of what `fn` throws ("" when it does not throw an aimc::Error).
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  return "";
}

// ---- broadcasting ----

TEST(Broadcast, ShapesFollowNumpy) {
  EXPECT_EQ(broadcast_shapes({2, 3, 4}, {4}), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({3, 1, 5}, {4, 1}), (Shape{3, 4, 5}));
  EXPECT_EQ(broadcast_shapes({}, {2, 2}), (Shape{2, 2}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 3}), (Shape{0, 3}));
  EXPECT_FALSE(broadcast_shapes({2, 3}, {4}).has_value());
}

TEST(Broadcast, LayoutMergesDimensionsWalkedTogether) {
  auto layout = make_broadcast_layout<2>({8, 16, 32}, {Shape{8, 16, 32}, Shape{32}});
  EXPECT_EQ(layout.dims, (Shape{128, 32}));
  EXPECT_EQ(layout.strides[0], (Shape{32, 1}));
  EXPECT_EQ(layout.strides[1], (Shape{0, 1}));
  auto column = make_broadcast_layout<2>({4, 1, 6}, {Shape{4, 1, 6}, Shape{4, 1, 1}});
  EXPECT_EQ(column.dims, (Shape{4, 6}));
  EXPECT_EQ(column.strides[1], (Shape{1, 0}));
}

// Plain multi-index loop: the reference for the general strided path.
Tensor reference_add(const Tensor& a, const Tensor& b) {
  Shape out_shape = *broadcast_shapes(a.shape(), b.shape());
  Tensor out(DType::kF32, out_shape);
  size_t rank = out_shape.size();
  Shape index(rank, 0);
  auto offset_in = [&](const Tensor& t) {
    Shape strides = shape_strides(t.shape());
    int64_t offset = 0;
    size_t lead = rank - t.shape().size();
    for (size_t d = 0; d < t.shape().size(); ++d) {
      if (t.shape()[d] != 1) offset += index[lead + d] * strides[d];
    }
    return offset;
  };
  for (int64_t i = 0; i < out.numel(); ++i) {
    out.data<float>()[i] = a.data<float>()[offset_in(a)] + b.data<float>()[offset_in(b)];
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < out_shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

TEST(Broadcast, GeneralPathMatchesPlainLoop) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{3, 1, 5}, {4, 1}},          {{2, 3, 4}, {3, 1}}, {{1, 4}, {5, 1}},
      {{2, 1, 3, 1}, {1, 4, 1, 5}}, {{7}, {}},           {{}, {}},
      {{300, 200}, {300, 1}}};
  uint32_t seed = 1;
  for (const auto& [sa, sb] : cases) {
    Tensor a = random_f32(sa, seed++);
    Tensor b = random_f32(sb, seed++);
    Tensor general(DType::kF32, *broadcast_shapes(sa, sb));
    broadcast_map2<float, float, float>(a, b, general, [](float x, float y) { return x + y; });
    EXPECT_EQ(values_of<float>(general), values_of<float>(reference_add(a, b)))
        << shape_str(sa) << " + " << shape_str(sb);
  }
}

// The kernels take contiguous fast paths for same shapes, scalars and repeated rows; each must
// agree exactly with the general path. Sizes are large enough to run on several threads.
TEST(Broadcast, FastPathsMatchGeneralPath) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{64, 1000}, {64, 1000}},   // same shape
      {{64, 1000}, {}},           // scalar right
      {{1}, {64, 1000}},          // scalar left
      {{64, 1000}, {1000}},       // row (bias add)
      {{8, 8, 1000}, {1, 1000}},  // row with leading 1
      {{1000}, {64, 1000}},       // row on the left
      {{64, 1000}, {64, 1}},      // column: general path in the kernel too
  };
  struct Op {
    const char* name;
    std::function<float(float, float)> fn;
  };
  const std::vector<Op> ops = {{"Add", [](float x, float y) { return x + y; }},
                               {"Sub", [](float x, float y) { return x - y; }},
                               {"Mul", [](float x, float y) { return x * y; }},
                               {"Div", [](float x, float y) { return x / y; }}};
  uint32_t seed = 100;
  for (const auto& [sa, sb] : cases) {
    Tensor a = random_f32(sa, seed++);
    Tensor b = random_f32(sb, seed++, 0.5f, 2.f);
    for (const Op& op : ops) {
      Tensor fast = run1(op.name, {a, b});
      Tensor general(DType::kF32, *broadcast_shapes(sa, sb));
      broadcast_map2<float, float, float>(a, b, general, op.fn);
      ASSERT_EQ(fast.shape(), general.shape());
      EXPECT_EQ(values_of<float>(fast), values_of<float>(general))
          << op.name << " " << shape_str(sa) << ", " << shape_str(sb);
    }
  }
}

// ---- binary arithmetic ----

TEST(Elementwise, ArithmeticBroadcastsByHand) {
  Tensor a = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor row = Tensor::from_vector<float>({3}, {10, 20, 30});
  Tensor column = Tensor::from_vector<float>({2, 1}, {1, 2});
  EXPECT_EQ(values_of<float>(run1("Add", {a, row})), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(values_of<float>(run1("Sub", {a, column})), (std::vector<float>{0, 1, 2, 2, 3, 4}));
  EXPECT_EQ(values_of<float>(run1("Mul", {column, row})),
            (std::vector<float>{10, 20, 30, 20, 40, 60}));
  EXPECT_EQ(values_of<float>(run1("Div", {a, column})), (std::vector<float>{1, 2, 3, 2, 2.5f, 3}));
  Tensor i = Tensor::from_vector<int32_t>({3}, {5, -7, 9});
  EXPECT_EQ(values_of<int32_t>(run1("Mul", {i, Tensor::scalar<int32_t>(3)})),
            (std::vector<int32_t>{15, -21, 27}));
  Tensor i8 = Tensor::from_vector<int8_t>({2}, {100, -100});
  EXPECT_EQ(values_of<int8_t>(run1("Add", {i8, i8})), (std::vector<int8_t>{-56, 56}));  // wraps
}

TEST(Elementwise, IntegerDivTruncatesAndRejectsZero) {
  Tensor a = Tensor::from_vector<int64_t>({4}, {7, -7, 7, std::numeric_limits<int64_t>::lowest()});
  Tensor b = Tensor::from_vector<int64_t>({4}, {2, 2, -2, -1});
  EXPECT_EQ(values_of<int64_t>(run1("Div", {a, b})),
            (std::vector<int64_t>{3, -3, -3, std::numeric_limits<int64_t>::lowest()}));
  Tensor zero = Tensor::from_vector<int64_t>({4}, {1, 0, 1, 1});
  std::string message = error_of([&] { run1("Div", {a, zero}); });
  EXPECT_NE(message.find("test_Div"), std::string::npos) << message;
  EXPECT_NE(message.find("division by zero"), std::string::npos) << message;
  // Float division by zero is IEEE, not an error.
  Tensor f = run1("Div", {Tensor::scalar<float>(1.f), Tensor::scalar<float>(0.f)});
  EXPECT_TRUE(std::isinf(f.data<float>()[0]));
}

TEST(Elementwise, PowKeepsTheBaseDtype) {
  Tensor base_i = Tensor::from_vector<int32_t>({3}, {1, 2, 3});
  Tensor exp_f = Tensor::from_vector<float>({3}, {4, 5, 6});
  Tensor r = run1("Pow", {base_i, exp_f});
  EXPECT_EQ(r.dtype(), DType::kI32);
  EXPECT_EQ(values_of<int32_t>(r), (std::vector<int32_t>{1, 32, 729}));
  Tensor base_f = Tensor::from_vector<float>({3}, {1, 2, 3});
  Tensor exp_i = Tensor::from_vector<int64_t>({3}, {4, 5, 6});
  EXPECT_EQ(values_of<float>(run1("Pow", {base_f, exp_i})), (std::vector<float>{1, 32, 729}));
  Tensor base_l = Tensor::from_vector<int64_t>({4}, {3, -2, 2, -1});
  Tensor exp_l = Tensor::from_vector<int64_t>({4}, {39, 3, -1, -3});
  std::vector<int64_t> powers = values_of<int64_t>(run1("Pow", {base_l, exp_l}));
  int64_t three_to_39 = 1;
  for (int i = 0; i < 39; ++i) three_to_39 *= 3;  // 3^39 < 2^63: no overflow
  EXPECT_EQ(powers, (std::vector<int64_t>{three_to_39, -8, 0, -1}));
  Tensor sq = run1("Pow", {Tensor::from_vector<float>({2}, {1.5f, -3.f}), Tensor::scalar(2.f)});
  EXPECT_EQ(values_of<float>(sq), (std::vector<float>{2.25f, 9.f}));
}

TEST(Elementwise, MixedDtypesAndBadShapesAreRejected) {
  Tensor f = Tensor::from_vector<float>({2}, {1, 2});
  Tensor l = Tensor::from_vector<int64_t>({2}, {1, 2});
  EXPECT_NE(error_of([&] { run1("Add", {f, l}); }).find("different dtypes"), std::string::npos);
  Tensor three = Tensor::from_vector<float>({3}, {1, 2, 3});
  EXPECT_NE(error_of([&] { run1("Mul", {f, three}); }).find("do not broadcast"), std::string::npos);
  Tensor b = Tensor::from_vector<bool>({2}, {true, false});
  EXPECT_NE(error_of([&] { run1("Add", {b, b}); }).find("unsupported"), std::string::npos);
  EXPECT_NE(error_of([&] { run1("Sqrt", {l}); }).find("unsupported"), std::string::npos);
}

// ---- comparisons, logic, Where ----

TEST(Elementwise, ComparisonsGiveBool) {
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2}, {2, 3});
  auto bools = [](const Tensor& t) {
    EXPECT_EQ(t.dtype(), DType::kBool);
    return values_of<bool>(t);
  };
  EXPECT_EQ(bools(run1("Equal", {a, b})), (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(bools(run1("Less", {a, b})), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(bools(run1("Greater", {a, b})), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(bools(run1("LessOrEqual", {a, b})), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(bools(run1("GreaterOrEqual", {a, Tensor::scalar(2.f)})),
            (std::vector<bool>{false, true, true, true}));
  Tensor p = Tensor::from_vector<bool>({4}, {false, false, true, true});
  Tensor q = Tensor::from_vector<bool>({4}, {false, true, false, true});
  EXPECT_EQ(bools(run1("And", {p, q})), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(bools(run1("Or", {p, q})), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(bools(run1("Xor", {p, q})), (std::vector<bool>{false, true, true, false}));
  EXPECT_EQ(bools(run1("Not", {p})), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(bools(run1("Equal", {p, q})), (std::vector<bool>{true, false, false, true}));
}

TEST(Elementwise, WhereBroadcastsAllThree) {
  Tensor condition = Tensor::from_vector<bool>({2, 1}, {true, false});
  Tensor x = Tensor::from_vector<int64_t>({3}, {1, 2, 3});
  Tensor y = Tensor::scalar<int64_t>(-1);
  Tensor r = run1("Where", {condition, x, y});
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of<int64_t>(r), (std::vector<int64_t>{1, 2, 3, -1, -1, -1}));
}

// ---- variadic ----

TEST(Elementwise, VariadicOpsBroadcastAllInputs) {
  Tensor a = Tensor::from_vector<float>({3}, {3, 2, 1});
  Tensor b = Tensor::from_vector<float>({2, 1}, {1, 5});
  Tensor c = Tensor::scalar<float>(2);
  EXPECT_EQ(values_of<float>(run1("Sum", {a, b, c})), (std::vector<float>{6, 5, 4, 10, 9, 8}));
  EXPECT_EQ(values_of<float>(run1("Mean", {a, b, c})),
            (std::vector<float>{2, 5.f / 3, 4.f / 3, 10.f / 3, 3, 8.f / 3}));
  EXPECT_EQ(values_of<float>(run1("Max", {a, b, c})), (std::vector<float>{3, 2, 2, 5, 5, 5}));
  EXPECT_EQ(values_of<float>(run1("Min", {a, b, c})), (std::vector<float>{1, 1, 1, 2, 2, 1}));
  EXPECT_EQ(values_of<float>(run1("Max", {a})), (std::vector<float>{3, 2, 1}));
  Tensor i = Tensor::from_vector<int8_t>({2}, {-5, 7});
  EXPECT_EQ(values_of<int8_t>(run1("Min", {i, Tensor::scalar<int8_t>(0)})),
            (std::vector<int8_t>{-5, 0}));
}

// ---- unary ----

TEST(Elementwise, FloatUnaryOpsMatchTheirFormulas) {
  Tensor x = random_f32({40000}, 7, -30.f, 30.f);  // large: runs the parallel loop
  struct Case {
    const char* op;
    std::map<std::string, ir::AttrValue> attrs;
    std::function<double(double)> reference;
  };
  const std::vector<Case> cases = {
      {"Erf", {}, [](double v) { return std::erf(v); }},
      {"Tanh", {}, [](double v) { return std::tanh(v); }},
      {"Sigmoid", {}, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"Exp", {}, [](double v) { return std::exp(v); }},
      {"Floor", {}, [](double v) { return std::floor(v); }},
      {"Ceil", {}, [](double v) { return std::ceil(v); }},
      {"Neg", {}, [](double v) { return -v; }},
      {"Abs", {}, [](double v) { return std::fabs(v); }},
      {"Relu", {}, [](double v) { return v > 0 ? v : 0; }},
      {"Reciprocal", {}, [](double v) { return 1 / v; }},
      {"Softplus", {}, [](double v) { return std::log(1 + std::exp(v)); }},
      {"LeakyRelu", {{"alpha", 0.1}}, [](double v) { return v < 0 ? 0.1 * v : v; }},
      {"Elu", {{"alpha", 2.0}}, [](double v) { return v < 0 ? 2 * (std::exp(v) - 1) : v; }},
      {"HardSigmoid",
       {{"alpha", 0.3}, {"beta", 0.4}},
       [](double v) { return std::max(0.0, std::min(1.0, 0.3 * v + 0.4)); }},
  };
  for (const Case& c : cases) {
    Tensor y = run1(c.op, {x}, c.attrs);
    ASSERT_EQ(y.shape(), x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) {
      double expected = c.reference(x.data<float>()[i]);
      ASSERT_NEAR(y.data<float>()[i], expected, 1e-6 + 1e-5 * std::fabs(expected))
          << c.op << "(" << x.data<float>()[i] << ")";
    }
  }
  Tensor positive = random_f32({100}, 8, 0.01f, 50.f);
  Tensor root = run1("Sqrt", {positive});
  Tensor log = run1("Log", {positive});
  for (int64_t i = 0; i < 100; ++i) {
    EXPECT_FLOAT_EQ(root.data<float>()[i], std::sqrt(positive.data<float>()[i]));
    EXPECT_FLOAT_EQ(log.data<float>()[i], std::log(positive.data<float>()[i]));
  }
  // Softplus and Sigmoid must not overflow far from zero.
  Tensor extreme = Tensor::from_vector<float>({2}, {-200.f, 200.f});
  EXPECT_EQ(values_of<float>(run1("Softplus", {extreme})), (std::vector<float>{0.f, 200.f}));
  EXPECT_EQ(values_of<float>(run1("Sigmoid", {extreme})), (std::vector<float>{0.f, 1.f}));
}

TEST(Elementwise, IntegerUnaryOps) {
  Tensor i = Tensor::from_vector<int32_t>({3}, {-4, 0, 9});
  EXPECT_EQ(values_of<int32_t>(run1("Relu", {i})), (std::vector<int32_t>{0, 0, 9}));
  EXPECT_EQ(values_of<int32_t>(run1("Neg", {i})), (std::vector<int32_t>{4, 0, -9}));
  EXPECT_EQ(values_of<int32_t>(run1("Abs", {i})), (std::vector<int32_t>{4, 0, 9}));
  Tensor lowest = Tensor::scalar<int8_t>(-128);
  EXPECT_EQ(values_of<int8_t>(run1("Abs", {lowest})), (std::vector<int8_t>{-128}));  // wraps
}

TEST(Elementwise, ClipWithOptionalBounds) {
  Tensor x = Tensor::from_vector<float>({5}, {-3, -1, 0, 1, 3});
  Tensor low = Tensor::scalar(-1.5f);
  Tensor high = Tensor::scalar(2.f);
  EXPECT_EQ(values_of<float>(run1("Clip", {x, low, high})),
            (std::vector<float>{-1.5f, -1, 0, 1, 2}));
  EXPECT_EQ(values_of<float>(run1("Clip", {x, Tensor(), high})),
            (std::vector<float>{-3, -1, 0, 1, 2}));
  EXPECT_EQ(values_of<float>(run1("Clip", {x})), values_of<float>(x));
  // Opset < 11: bounds as attributes.
  EXPECT_EQ(values_of<float>(run1("Clip", {x}, {{"min", -0.5}, {"max", 0.5}})),
            (std::vector<float>{-0.5f, -0.5f, 0, 0.5f, 0.5f}));
  Tensor i8 = Tensor::from_vector<int8_t>({3}, {-100, 5, 100});
  EXPECT_EQ(values_of<int8_t>(run1("Clip", {i8, Tensor::scalar<int8_t>(0)})),
            (std::vector<int8_t>{0, 5, 100}));
  Tensor not_scalar = Tensor::from_vector<float>({2}, {0, 1});
  EXPECT_NE(error_of([&] { run1("Clip", {x, not_scalar}); }).find("scalars"), std::string::npos);
}

TEST(Elementwise, CastSupportsOurDtypesOnly) {
  Tensor x = Tensor::from_vector<float>({3}, {1.7f, -2.5f, 0.f});
  Tensor l = run1("Cast", {x}, {{"to", int64_t{7}}});
  EXPECT_EQ(values_of<int64_t>(l), (std::vector<int64_t>{1, -2, 0}));
  EXPECT_EQ(values_of<bool>(run1("Cast", {x}, {{"to", int64_t{9}}})),
            (std::vector<bool>{true, true, false}));
  // ONNX TensorProto codes.
  const std::pair<int64_t, DType> codes[] = {
      {1, DType::kF32},  {2, DType::kU8},   {3, DType::kI8},   {4, DType::kU16},
      {5, DType::kI16},  {6, DType::kI32},  {7, DType::kI64},  {9, DType::kBool},
      {10, DType::kF16}, {11, DType::kF64}, {12, DType::kU32}, {13, DType::kU64}};
  for (const auto& [code, dtype] : codes) {
    Tensor y = run1("Cast", {l}, {{"to", code}});
    EXPECT_EQ(y.dtype(), dtype) << code;
    EXPECT_EQ(y.item_as_double(0), 1.0) << code;
  }
  EXPECT_EQ(run1("Cast", {l}, {{"to", int64_t{2}}}).item_as_int(1), 254);  // -2 wraps
  // f16 -> f64 is exact; f64 -> f16 rounds to nearest even.
  Tensor third = run1("Cast", {Tensor::scalar<double>(1.0 / 3.0)}, {{"to", int64_t{10}}});
  EXPECT_EQ(third.data<Float16>()[0].bits, 0x3555);
  EXPECT_EQ(run1("Cast", {third}, {{"to", int64_t{11}}}).data<double>()[0], 0.333251953125);
  for (int64_t unsupported : {8, 14, 15, 16}) {  // STRING, COMPLEX64/128, BFLOAT16
    std::string message = error_of([&] { run1("Cast", {x}, {{"to", unsupported}}); });
    EXPECT_NE(message.find("test_Cast"), std::string::npos) << message;
    EXPECT_NE(message.find("unsupported"), std::string::npos) << message;
  }
}

// Integer arithmetic of `T` against the same operation done in uint64 and truncated, which is
// what two's complement hardware (and numpy) computes.
template <typename T>
void expect_wrapping_arithmetic(uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<T> a_values(64), b_values(64);
  for (size_t i = 0; i < a_values.size(); ++i) {
    a_values[i] = static_cast<T>(gen());
    b_values[i] = static_cast<T>(gen());
  }
  a_values[0] = std::numeric_limits<T>::max();
  b_values[0] = 1;
  a_values[1] = std::numeric_limits<T>::lowest();
  b_values[1] = 1;
  Tensor a = Tensor::from_vector<T>({8, 8}, a_values);
  Tensor b = Tensor::from_vector<T>({8, 8}, b_values);
  std::vector<T> add = values_of<T>(run1("Add", {a, b}));
  std::vector<T> sub = values_of<T>(run1("Sub", {a, b}));
  std::vector<T> mul = values_of<T>(run1("Mul", {a, b}));
  std::vector<T> max = values_of<T>(run1("Max", {a, b}));
  std::vector<T> min = values_of<T>(run1("Min", {a, b}));
  std::vector<bool> less = values_of<bool>(run1("Less", {a, b}));
  for (size_t i = 0; i < a_values.size(); ++i) {
    auto x = static_cast<uint64_t>(a_values[i]);
    auto y = static_cast<uint64_t>(b_values[i]);
    EXPECT_EQ(add[i], static_cast<T>(x + y)) << dtype_name(dtype_of<T>()) << " " << i;
    EXPECT_EQ(sub[i], static_cast<T>(x - y)) << dtype_name(dtype_of<T>()) << " " << i;
    EXPECT_EQ(mul[i], static_cast<T>(x * y)) << dtype_name(dtype_of<T>()) << " " << i;
    EXPECT_EQ(max[i], std::max(a_values[i], b_values[i])) << dtype_name(dtype_of<T>());
    EXPECT_EQ(min[i], std::min(a_values[i], b_values[i])) << dtype_name(dtype_of<T>());
    EXPECT_EQ(less[i], a_values[i] < b_values[i]) << dtype_name(dtype_of<T>());
  }
}

TEST(Elementwise, EveryIntegerDtypeWrapsLikeNumpy) {
  expect_wrapping_arithmetic<uint8_t>(1);
  expect_wrapping_arithmetic<uint16_t>(2);
  expect_wrapping_arithmetic<uint32_t>(3);
  expect_wrapping_arithmetic<uint64_t>(4);
  expect_wrapping_arithmetic<int8_t>(5);
  expect_wrapping_arithmetic<int16_t>(6);
  expect_wrapping_arithmetic<int32_t>(7);
  expect_wrapping_arithmetic<int64_t>(8);
}

TEST(Elementwise, UnsignedValuesAreNotSigned) {
  // 200 would be -56 as i8: comparisons, Max, Div, Abs and ArgMax must see 200.
  Tensor a = Tensor::from_vector<uint8_t>({3}, {200, 3, 255});
  Tensor b = Tensor::from_vector<uint8_t>({3}, {100, 50, 2});
  EXPECT_EQ(values_of<uint8_t>(run1("Max", {a, b})), (std::vector<uint8_t>{200, 50, 255}));
  EXPECT_EQ(values_of<uint8_t>(run1("Div", {a, b})), (std::vector<uint8_t>{2, 0, 127}));
  EXPECT_EQ(values_of<uint8_t>(run1("Abs", {a})), values_of<uint8_t>(a));
  EXPECT_EQ(values_of<uint8_t>(run1("Relu", {a})), values_of<uint8_t>(a));
  EXPECT_EQ(values_of<bool>(run1("Greater", {a, b})), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {a})), (std::vector<int64_t>{2}));
  EXPECT_EQ(values_of<uint8_t>(
                run1("Clip", {a, Tensor::scalar<uint8_t>(10), Tensor::scalar<uint8_t>(201)})),
            (std::vector<uint8_t>{200, 10, 201}));
  Tensor big = Tensor::from_vector<uint64_t>({2}, {1ull << 63, 5});
  EXPECT_EQ(values_of<uint64_t>(run1("Div", {big, Tensor::scalar<uint64_t>(2)})),
            (std::vector<uint64_t>{1ull << 62, 2}));
  EXPECT_NE(error_of([&] {
              run1("Div", {a, Tensor::scalar<uint8_t>(0)});
            }).find("division"),
            std::string::npos);
  // Pow with unsigned exponents (test_pow_types_float32_uint64).
  EXPECT_EQ(values_of<float>(run1("Pow", {Tensor::from_vector<float>({2}, {2.f, -3.f}),
                                          Tensor::from_vector<uint64_t>({2}, {10, 3})})),
            (std::vector<float>{1024.f, -27.f}));
  EXPECT_EQ(
      values_of<int64_t>(run1("Pow", {Tensor::scalar<int64_t>(-2), Tensor::scalar<uint32_t>(5)})),
      (std::vector<int64_t>{-32}));
}

TEST(Elementwise, Float64ComputesInDouble) {
  Tensor one = Tensor::scalar<double>(1.0);
  Tensor tiny = Tensor::scalar<double>(1e-12);
  EXPECT_EQ(values_of<double>(run1("Add", {one, tiny}))[0], 1.0 + 1e-12);  // lost in f32
  EXPECT_EQ(values_of<double>(run1("Div", {one, Tensor::scalar<double>(3.0)}))[0], 1.0 / 3.0);
  std::vector<double> xs = {-3.5, -0.25, 0.0, 0.7, 2.0, 30.0};
  Tensor x = Tensor::from_vector<double>({6}, xs);
  struct Case {
    const char* op;
    double (*reference)(double);
  };
  const Case cases[] = {{"Exp", [](double v) { return std::exp(v); }},
                        {"Tanh", [](double v) { return std::tanh(v); }},
                        {"Erf", [](double v) { return std::erf(v); }},
                        {"Sigmoid", [](double v) { return 1.0 / (1.0 + std::exp(-v)); }},
                        {"Floor", [](double v) { return std::floor(v); }},
                        {"Neg", [](double v) { return -v; }},
                        {"Abs", [](double v) { return std::fabs(v); }},
                        {"Relu", [](double v) { return v < 0 ? 0.0 : v; }},
                        {"LeakyRelu", [](double v) { return v < 0 ? double(0.01f) * v : v; }}};
  for (const Case& c : cases) {
    Tensor y = run1(c.op, {x});
    ASSERT_EQ(y.dtype(), DType::kF64) << c.op;
    for (size_t i = 0; i < xs.size(); ++i) {
      EXPECT_DOUBLE_EQ(y.data<double>()[i], c.reference(xs[i])) << c.op << " " << xs[i];
    }
  }
  EXPECT_EQ(
      values_of<double>(run1("Pow", {Tensor::scalar<double>(1.5), Tensor::scalar<int64_t>(3)}))[0],
      3.375);
  Tensor nan = Tensor::scalar<double>(std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(std::isnan(values_of<double>(run1("Max", {nan, one}))[0]));
  EXPECT_EQ(values_of<double>(run1("Where", {Tensor::scalar<bool>(false), nan, tiny}))[0], 1e-12);
}

double half_at(const Tensor& t, int64_t i) {
  return static_cast<double>(float16_to_float(t.data<Float16>()[i]));
}

TEST(Elementwise, Float16RoundsEachResultOnce) {
  Tensor a = Tensor::from_vector<float>({4}, {1.f, 2048.f, 65504.f, -3.f}).cast(DType::kF16);
  Tensor b = Tensor::from_vector<float>({4}, {0.00048828125f, 1.f, 16.f, 0.5f}).cast(DType::kF16);
  Tensor sum = run1("Add", {a, b});
  ASSERT_EQ(sum.dtype(), DType::kF16);
  EXPECT_EQ(half_at(sum, 0), 1.0);       // 1 + 2^-11: tie, to even
  EXPECT_EQ(half_at(sum, 1), 2048.0);    // 2049: tie, to even
  EXPECT_EQ(half_at(sum, 2), INFINITY);  // 65520 overflows
  EXPECT_EQ(half_at(sum, 3), -2.5);
  EXPECT_EQ(half_at(run1("Mul", {a, b}), 3), -1.5);
  EXPECT_EQ(half_at(run1("Max", {a, b}), 3), 0.5);
  EXPECT_EQ(values_of<bool>(run1("Less", {a, b})), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {a})), (std::vector<int64_t>{2}));
  // Unary ops: the f32 result rounded to f16.
  Tensor x = Tensor::from_vector<float>({4}, {-2.f, -0.1f, 0.3f, 5.f}).cast(DType::kF16);
  for (const char* op : {"Exp", "Sigmoid", "Tanh", "Sqrt", "Neg", "Abs"}) {
    Tensor y = run1(op, {x});
    ASSERT_EQ(y.dtype(), DType::kF16) << op;
    Tensor expected = run1(op, {x.cast(DType::kF32)}).cast(DType::kF16);
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(y.data<Float16>()[i].bits, expected.data<Float16>()[i].bits) << op << " " << i;
    }
  }
  // Where takes its dtype from x and y; Pow from the base, whatever the exponent's dtype.
  EXPECT_EQ(run1("Where", {Tensor::scalar<bool>(true), a, b}).dtype(), DType::kF16);
  Tensor pow_f32 =
      run1("Pow", {Tensor::scalar<float>(3.f), Tensor::scalar<float>(2.f).cast(DType::kF16)});
  EXPECT_EQ(pow_f32.dtype(), DType::kF32);
  EXPECT_EQ(pow_f32.data<float>()[0], 9.f);
  Tensor pow_f16 = run1("Pow", {a, Tensor::scalar<int64_t>(2)});
  EXPECT_EQ(pow_f16.dtype(), DType::kF16);
  EXPECT_EQ(half_at(pow_f16, 3), 9.0);
  Tensor clipped = run1("Clip", {a, Tensor::scalar<float>(0.f).cast(DType::kF16),
                                 Tensor::scalar<float>(100.f).cast(DType::kF16)});
  EXPECT_EQ(clipped.dtype(), DType::kF16);
  EXPECT_EQ(half_at(clipped, 2), 100.0);
  EXPECT_EQ(half_at(clipped, 3), 0.0);
  // Widening to f32 must not let an f16 operand pass for an f32 one.
  std::string message = error_of([&] { run1("Add", {a, Tensor::scalar<float>(1.f)}); });
  EXPECT_NE(message.find("different dtypes"), std::string::npos) << message;
}

TEST(Elementwise, IdentityAndInferenceDropout) {
  Tensor x = random_f32({3, 4}, 9);
  EXPECT_EQ(values_of<float>(run1("Identity", {x})), values_of<float>(x));
  std::vector<Tensor> out = run_op("Dropout", {x, Tensor::scalar(0.3f)}, {}, 2);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(values_of<float>(out[0]), values_of<float>(x));
  EXPECT_EQ(out[1].dtype(), DType::kBool);
  EXPECT_EQ(values_of<bool>(out[1]), std::vector<bool>(12, true));
  // Training mode with ratio 0 drops nothing; with a ratio it would need randomness.
  EXPECT_EQ(values_of<float>(run1("Dropout", {x, Tensor::scalar(0.f), Tensor::scalar<bool>(true)})),
            values_of<float>(x));
  EXPECT_NE(error_of([&] {
              run1("Dropout", {x, Tensor::scalar(0.5f), Tensor::scalar<bool>(true)});
            }).find("training"),
            std::string::npos);
}

// ---- reductions ----

// Plain loop over every input element: output position by zeroing reduced coordinates.
Tensor reference_reduce(const std::string& op, const Tensor& x, const std::vector<bool>& reduced,
                        bool keepdims) {
  const Shape& shape = x.shape();
  Shape kept_shape;  // with keepdims
  for (size_t d = 0; d < shape.size(); ++d) kept_shape.push_back(reduced[d] ? 1 : shape[d]);
  int64_t outputs = shape_numel(kept_shape);
  bool is_max = op == "ReduceMax", is_min = op == "ReduceMin";
  double init = op == "ReduceProd" ? 1.0 : is_max ? -INFINITY : is_min ? INFINITY : 0.0;
  std::vector<double> acc(static_cast<size_t>(outputs), init);
  int64_t count = x.numel() / std::max<int64_t>(1, outputs);
  Shape out_strides = shape_strides(kept_shape);
  Shape index(shape.size(), 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t o = 0;
    for (size_t d = 0; d < shape.size(); ++d) o += (reduced[d] ? 0 : index[d]) * out_strides[d];
    double v = x.item_as_double(i);
    double& a = acc[static_cast<size_t>(o)];
    if (op == "ReduceSum" || op == "ReduceMean") a += v;
    if (op == "ReduceProd") a *= v;
    if (is_max) a = std::max(a, v);
    if (is_min) a = std::min(a, v);
    if (op == "ReduceSumSquare" || op == "ReduceL2") a += v * v;
    if (op == "ReduceL1") a += std::fabs(v);
    if (op == "ReduceLogSumExp") a += std::exp(v);
    if (op == "ReduceLogSum") a += v;
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  Shape out_shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!reduced[d] || keepdims) out_shape.push_back(kept_shape[d]);
  }
  Tensor out(DType::kF64, out_shape);
  for (int64_t o = 0; o < outputs; ++o) {
    double a = acc[static_cast<size_t>(o)];
    if (op == "ReduceMean") a /= static_cast<double>(count);
    if (op == "ReduceL2") a = std::sqrt(a);
    if (op == "ReduceLogSumExp" || op == "ReduceLogSum") a = std::log(a);
    out.data<double>()[o] = a;
  }
  return out;
}

// Every reduction over every axis set of `dtype` against reference_reduce, element i within
// `relative` of the double reference.
void expect_reductions_match_plain_loop(DType dtype, double relative) {
  const std::vector<std::string> ops = {
      "ReduceSum",       "ReduceMean", "ReduceMax", "ReduceMin",       "ReduceProd",
      "ReduceSumSquare", "ReduceL1",   "ReduceL2",  "ReduceLogSumExp", "ReduceLogSum"};
  const std::vector<Shape> shapes = {{2, 3, 4, 5}, {3, 1, 4}, {64, 600}, {5}};
  uint32_t seed = 200;
  for (const Shape& shape : shapes) {
    // Positive, so Prod stays finite; in the input dtype, so the reference sees the same values.
    Tensor x = random_f32(shape, seed++, 0.5f, 1.5f).cast(dtype);
    if (dtype == DType::kF64) {
      // Digits beyond f32's, which an f32 computation would lose.
      for (int64_t i = 0; i < x.numel(); ++i)
        x.data<double>()[i] += 1e-9 * static_cast<double>(i % 7);
    }
    auto rank = static_cast<int64_t>(shape.size());
    for (int64_t mask = 0; mask < (int64_t{1} << rank); ++mask) {
      std::vector<bool> reduced(shape.size());
      std::vector<int64_t> axes;
      for (int64_t d = 0; d < rank; ++d) {
        reduced[static_cast<size_t>(d)] = (mask >> d) & 1;
        // Negative axes half of the time.
        if ((mask >> d) & 1) axes.push_back(d % 2 ? d - rank : d);
      }
      if (axes.empty()) reduced.assign(shape.size(), true);  // no axes: reduce all
      for (bool keepdims : {true, false}) {
        for (const std::string& op : ops) {
          std::map<std::string, ir::AttrValue> attrs{{"keepdims", int64_t{keepdims}}};
          std::vector<Tensor> inputs{x};
          if (op == "ReduceSum") {
            inputs.push_back(
                Tensor::from_vector<int64_t>({static_cast<int64_t>(axes.size())}, axes));
          } else if (!axes.empty()) {
            attrs["axes"] = axes;
          }
          Tensor actual = run1(op, inputs, attrs);
          Tensor expected = reference_reduce(op, x, reduced, keepdims);
          ASSERT_EQ(actual.dtype(), dtype) << op;
          ASSERT_EQ(actual.shape(), expected.shape()) << op << " mask " << mask;
          for (int64_t i = 0; i < expected.numel(); ++i) {
            double e = expected.data<double>()[i];
            ASSERT_NEAR(actual.item_as_double(i), e, relative * std::fabs(e) + relative * 0.1)
                << dtype_name(dtype) << " " << op << " " << shape_str(shape) << " mask " << mask
                << " keepdims " << keepdims << " element " << i;
          }
        }
      }
    }
  }
}

TEST(Reduce, EveryOpAndAxisSetMatchesPlainLoop) {
  expect_reductions_match_plain_loop(DType::kF32, 1e-5);
  expect_reductions_match_plain_loop(DType::kF64, 1e-12);
  // A half carries 11 significant bits: one rounding of the result costs up to 2^-11.
  expect_reductions_match_plain_loop(DType::kF16, std::ldexp(1.0, -11));
}

TEST(Reduce, UnsignedAndSmallIntegerReductions) {
  Tensor u8 = Tensor::from_vector<uint8_t>({2, 2}, {200, 100, 255, 1});
  std::map<std::string, ir::AttrValue> rows{{"axes", std::vector<int64_t>{1}},
                                            {"keepdims", int64_t{0}}};
  // Mean and Max see 200 and 255, not -56 and -1; Sum wraps modulo 256 like numpy's uint8.
  EXPECT_EQ(values_of<uint8_t>(run1("ReduceMean", {u8}, rows)), (std::vector<uint8_t>{150, 128}));
  EXPECT_EQ(values_of<uint8_t>(run1("ReduceMax", {u8}, rows)), (std::vector<uint8_t>{200, 255}));
  EXPECT_EQ(values_of<uint8_t>(run1("ReduceMin", {u8}, rows)), (std::vector<uint8_t>{100, 1}));
  EXPECT_EQ(values_of<uint8_t>(run1("ReduceL1", {u8}, rows)), (std::vector<uint8_t>{44, 0}));
  Tensor u64 = Tensor::from_vector<uint64_t>({3}, {1ull << 63, 3, (1ull << 63) + 1});
  EXPECT_EQ(values_of<uint64_t>(run1("ReduceMax", {u64})),
            (std::vector<uint64_t>{(1ull << 63) + 1}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMin", {u64})), (std::vector<int64_t>{1}));
  Tensor i16 = Tensor::from_vector<int16_t>({3}, {-30000, -30000, 5});
  EXPECT_EQ(values_of<int16_t>(run1("ReduceSum", {i16})),
            (std::vector<int16_t>{static_cast<int16_t>(-59995 + 65536)}));
  EXPECT_EQ(values_of<int16_t>(run1("ReduceMean", {i16})), (std::vector<int16_t>{-19998}));
}

TEST(Reduce, IntegerReductionsStayExact) {
  Tensor x = Tensor::from_vector<int64_t>({2, 3}, {1, -2, 3, 4, 5, -7});
  std::map<std::string, ir::AttrValue> attrs{{"axes", std::vector<int64_t>{1}},
                                             {"keepdims", int64_t{0}}};
  EXPECT_EQ(values_of<int64_t>(run1("ReduceMax", {x}, attrs)), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(values_of<int64_t>(run1("ReduceMin", {x}, attrs)), (std::vector<int64_t>{-2, -7}));
  EXPECT_EQ(values_of<int64_t>(run1("ReduceProd", {x}, attrs)), (std::vector<int64_t>{-6, -140}));
  EXPECT_EQ(values_of<int64_t>(run1("ReduceL1", {x}, attrs)), (std::vector<int64_t>{6, 16}));
  EXPECT_EQ(values_of<int64_t>(run1("ReduceMean", {x}, attrs)), (std::vector<int64_t>{0, 0}));
  Tensor axes = Tensor::from_vector<int64_t>({1}, {0});
  EXPECT_EQ(values_of<int64_t>(run1("ReduceSum", {x, axes})), (std::vector<int64_t>{5, 3, -4}));
}

TEST(Reduce, EmptyAxesAndBadAxes) {
  Tensor x = random_f32({2, 3}, 300);
  Tensor empty_axes(DType::kI64, {0});
  // Empty axes reduce everything, or nothing with noop_with_empty_axes.
  Tensor all = run1("ReduceSum", {x, empty_axes});
  EXPECT_EQ(all.shape(), (Shape{1, 1}));
  Tensor same = run1("ReduceSum", {x, empty_axes}, {{"noop_with_empty_axes", int64_t{1}}});
  EXPECT_EQ(values_of<float>(same), values_of<float>(x));
  EXPECT_EQ(run1("ReduceMean", {x}, {{"keepdims", int64_t{0}}}).shape(), Shape{});
  std::string message = error_of([&] {
    run1("ReduceMean", {x}, {{"axes", std::vector<int64_t>{2}}});
  });
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
  EXPECT_NE(message.find("test_ReduceMean"), std::string::npos) << message;
  EXPECT_NE(error_of([&] {
              run1("ReduceMax", {x}, {{"axes", std::vector<int64_t>{1, -1}}});
            }).find("twice"),
            std::string::npos);
  // Reducing an empty axis gives the identity of the reduction.
  Tensor nothing(DType::kF32, {2, 0});
  std::map<std::string, ir::AttrValue> axis1{{"axes", std::vector<int64_t>{1}}};
  EXPECT_EQ(values_of<float>(run1("ReduceSum", {nothing, Tensor::from_vector<int64_t>({1}, {1})})),
            (std::vector<float>{0, 0}));
  EXPECT_EQ(values_of<float>(run1("ReduceMax", {nothing}, axis1)),
            (std::vector<float>{-INFINITY, -INFINITY}));
}

TEST(Reduce, ArgMaxArgMinWithTiesAndKeepdims) {
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 5, 5, 7, 0, 0});
  EXPECT_EQ(values_of<int64_t>(run1("ArgMax", {x}, {{"axis", int64_t{1}}})),
            (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(run1("ArgMax", {x}, {{"axis", int64_t{1}}}).shape(), (Shape{2, 1}));
  EXPECT_EQ(
      values_of<int64_t>(run1(
          "ArgMax", {x},
          {{"axis", int64_t{-1}}, {"select_last_index", int64_t{1}}, {"keepdims", int64_t{0}}})),
      (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(values_of<int64_t>(run1("ArgMin", {x}, {{"axis", int64_t{1}}})),
            (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(values_of<int64_t>(
                run1("ArgMin", {x}, {{"axis", int64_t{1}}, {"select_last_index", int64_t{1}}})),
            (std::vector<int64_t>{0, 2}));
  Tensor by_column = run1("ArgMax", {x}, {{"keepdims", int64_t{0}}});
  EXPECT_EQ(by_column.shape(), (Shape{3}));
  EXPECT_EQ(values_of<int64_t>(by_column), (std::vector<int64_t>{1, 0, 0}));
  EXPECT_NE(error_of([&] {
              run1("ArgMin", {x}, {{"axis", int64_t{2}}});
            }).find("out of range"),
            std::string::npos);
}

}  // namespace
}  // namespace aimc::runtime
