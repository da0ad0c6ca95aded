// Kernels of the shape and data-movement ops: hand-computed values, and the fast paths
// (blocked transpose, strided copies) against plain index loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"
#include "aimc/runtime/kernel.h"

namespace aimc::runtime {
namespace {

// A detached node: kernels only read its op, name, attributes and output count.
ir::Node make_node(const std::string& op, std::map<std::string, ir::AttrValue> attrs = {},
                   size_t outputs = 1) {
  ir::Node node;
  node.op = op;
  node.name = "n_" + op;
  node.attrs = std::move(attrs);
  node.outputs.assign(outputs, nullptr);
  return node;
}

std::vector<Tensor> run(const ir::Node& node, const std::vector<Tensor>& inputs) {
  return evaluate_node(node, inputs);
}

Tensor run1(const std::string& op, const std::vector<Tensor>& inputs,
            std::map<std::string, ir::AttrValue> attrs = {}) {
  std::vector<Tensor> out = run(make_node(op, std::move(attrs)), inputs);
  EXPECT_EQ(out.size(), 1u);
  return out.at(0);
}

Tensor ints(Shape shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(std::move(shape), values);
}
Tensor ints1(std::vector<int64_t> values) {
  int64_t n = static_cast<int64_t>(values.size());
  return ints({n}, std::move(values));
}
Tensor floats(Shape shape, std::vector<float> values) {
  return Tensor::from_vector<float>(std::move(shape), values);
}

// f32 tensor holding 0, 1, 2, ...
Tensor iota(Shape shape) {
  Tensor t(DType::kF32, std::move(shape));
  std::iota(t.data<float>(), t.data<float>() + t.numel(), 0.0f);
  return t;
}

// Random tensor of any dtype (values small enough to be exact in every dtype).
Tensor random_tensor(DType dtype, Shape shape, std::mt19937& rng) {
  Tensor t(DType::kI64, std::move(shape));
  std::uniform_int_distribution<int64_t> dist(-100, 100);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = dist(rng);
  return t.cast(dtype);
}

std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(t.item_as_double(i));
  return out;
}

void expect_tensor(const Tensor& actual, DType dtype, const Shape& shape,
                   const std::vector<double>& values) {
  EXPECT_EQ(actual.dtype(), dtype);
  EXPECT_EQ(shape_str(actual.shape()), shape_str(shape));
  EXPECT_EQ(as_doubles(actual), values);
}

// Bit-exact equality of two tensors.
void expect_same(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.dtype(), expected.dtype());
  ASSERT_EQ(shape_str(actual.shape()), shape_str(expected.shape()));
  EXPECT_EQ(0, std::memcmp(actual.raw(), expected.raw(), expected.nbytes()));
}

// Expects a bad-input error whose message names the node and contains `needle`.
template <typename Fn>
void expect_bad_input(Fn&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown, expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("n_"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// Multi-index of flat position `flat` in `shape`.
Shape unravel(int64_t flat, const Shape& shape) {
  Shape index(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  return index;
}

int64_t ravel(const Shape& index, const Shape& shape) {
  int64_t flat = 0;
  for (size_t k = 0; k < shape.size(); ++k) flat = flat * shape[k] + index[k];
  return flat;
}

// Element-by-element copy out[i] = in[source(i)], the reference for every data-movement op.
template <typename SourceFn>
Tensor reference_gather(const Tensor& in, const Shape& out_shape, SourceFn&& source) {
  Tensor out(in.dtype(), out_shape);
  size_t element = dtype_size(in.dtype());
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t from = source(unravel(i, out_shape));
    std::memcpy(out.raw() + i * int64_t(element), in.raw() + from * int64_t(element), element);
  }
  return out;
}

const DType kAllDtypes[] = {DType::kF32, DType::kF64, DType::kF16, DType::kI64,
                            DType::kI32, DType::kI16, DType::kI8,  DType::kU64,
                            DType::kU32, DType::kU16, DType::kU8,  DType::kBool};

// ---- Transpose ----

Tensor reference_transpose(const Tensor& in, const std::vector<int64_t>& perm) {
  Shape out_shape;
  for (int64_t p : perm) out_shape.push_back(in.shape()[size_t(p)]);
  return reference_gather(in, out_shape, [&](const Shape& out_index) {
    Shape in_index(perm.size());
    for (size_t k = 0; k < perm.size(); ++k) in_index[size_t(perm[k])] = out_index[k];
    return ravel(in_index, in.shape());
  });
}

TEST(TransposeKernel, EveryPermutationMatchesReferenceLoop) {
  std::mt19937 rng(1);
  // Sizes around the 32-element tile edge, and size-1 axes that coalescing removes.
  const std::vector<Shape> shapes = {{2, 3, 4},    {33, 1, 65},    {1, 40, 31},
                                     {2, 3, 4, 5}, {3, 1, 34, 33}, {2, 2, 1, 2, 3}};
  for (const Shape& shape : shapes) {
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    for (DType dtype : kAllDtypes) {
      Tensor in = random_tensor(dtype, shape, rng);
      do {
        SCOPED_TRACE(shape_str(shape) + " perm " + shape_str(perm) + " " + dtype_name(dtype));
        Tensor out = run1("Transpose", {in}, {{"perm", perm}});
        expect_same(out, reference_transpose(in, perm));
      } while (std::next_permutation(perm.begin(), perm.end()));
    }
  }
}

TEST(TransposeKernel, AttentionLastTwoAxesUseBlockedPath) {
  // [batch, heads, seq, head_dim] -> [batch, heads, head_dim, seq], big enough to be threaded.
  std::mt19937 rng(2);
  for (Shape shape : {Shape{2, 4, 100, 64}, Shape{1, 12, 197, 64}, Shape{3, 257, 129}}) {
    Tensor in = random_tensor(DType::kF32, shape, rng);
    std::vector<int64_t> perm(shape.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
    expect_same(run1("Transpose", {in}, {{"perm", perm}}), reference_transpose(in, perm));
  }
}

TEST(TransposeKernel, DefaultReversesAxes) {
  Tensor out = run1("Transpose", {iota({2, 3})});
  expect_tensor(out, DType::kF32, {3, 2}, {0, 3, 1, 4, 2, 5});
}

TEST(TransposeKernel, MovingOnlyUnitAxesSharesStorage) {
  Tensor in = iota({1, 5, 1, 3});
  Tensor out = run1("Transpose", {in}, {{"perm", std::vector<int64_t>{2, 1, 0, 3}}});
  EXPECT_EQ(out.raw(), in.raw());
  EXPECT_EQ(shape_str(out.shape()), "[1, 5, 1, 3]");
}

TEST(TransposeKernel, EmptyAndScalar) {
  Tensor empty = run1("Transpose", {iota({0, 3})});
  EXPECT_EQ(shape_str(empty.shape()), "[3, 0]");
  Tensor scalar = run1("Transpose", {Tensor::scalar<float>(7)});
  expect_tensor(scalar, DType::kF32, {}, {7});
}

TEST(TransposeKernel, BadPermIsReported) {
  expect_bad_input(
      [] {
        run1("Transpose", {iota({2, 3})}, {{"perm", std::vector<int64_t>{0, 0}}});
      },
      "repeats");
  expect_bad_input(
      [] {
        run1("Transpose", {iota({2, 3})}, {{"perm", std::vector<int64_t>{0}}});
      },
      "perm");
}

// ---- Reshape, Flatten, Squeeze, Unsqueeze ----

TEST(ReshapeKernel, ZeroCopiesAndMinusOneInfers) {
  Tensor in = iota({2, 3, 4});
  Tensor out = run1("Reshape", {in, ints1({0, -1})});
  EXPECT_EQ(shape_str(out.shape()), "[2, 12]");
  EXPECT_EQ(out.raw(), in.raw());  // a view, no copy
  EXPECT_EQ(shape_str(run1("Reshape", {in, ints1({-1, 2, 2})}).shape()), "[6, 2, 2]");
  EXPECT_EQ(shape_str(run1("Reshape", {in, ints1({4, 0, 2})}).shape()), "[4, 3, 2]");
}

TEST(ReshapeKernel, AllowZeroMeansEmptyDimension) {
  Tensor empty(DType::kF32, {0, 3});
  Tensor out = run1("Reshape", {empty, ints1({3, 0})}, {{"allowzero", int64_t{1}}});
  EXPECT_EQ(shape_str(out.shape()), "[3, 0]");
  // Without allowzero the 0 copies dimension 1 (3): 9 elements for 0.
  expect_bad_input([&] { run1("Reshape", {empty, ints1({3, 0})}); }, "cannot reshape");
}

TEST(ReshapeKernel, BadShapesAreReported) {
  Tensor in = iota({2, 3});
  expect_bad_input([&] { run1("Reshape", {in, ints1({4, 2})}); }, "cannot reshape");
  expect_bad_input([&] { run1("Reshape", {in, ints1({-1, -1})}); }, "more than one -1");
  expect_bad_input([&] { run1("Reshape", {in, ints1({4, -1})}); }, "cannot reshape");
  expect_bad_input([&] { run1("Reshape", {in, ints1({1, 1, 0})}); }, "shape entry 2 is 0");
  expect_bad_input([&] { run1("Reshape", {in, ints1({-2, -3})}); }, "negative");
  expect_bad_input(
      [&] {
        run1("Reshape", {in, ints1({int64_t{1} << 40, int64_t{1} << 40})});
      },
      "overflows");
}

TEST(FlattenKernel, AxesIncludingNegative) {
  Tensor in = iota({2, 3, 4, 5});
  EXPECT_EQ(shape_str(run1("Flatten", {in}).shape()), "[2, 60]");
  EXPECT_EQ(shape_str(run1("Flatten", {in}, {{"axis", int64_t{0}}}).shape()), "[1, 120]");
  EXPECT_EQ(shape_str(run1("Flatten", {in}, {{"axis", int64_t{4}}}).shape()), "[120, 1]");
  EXPECT_EQ(shape_str(run1("Flatten", {in}, {{"axis", int64_t{-1}}}).shape()), "[24, 5]");
  expect_bad_input([&] { run1("Flatten", {in}, {{"axis", int64_t{5}}}); }, "out of range");
}

TEST(SqueezeKernel, GivenAxesOrAllUnitAxes) {
  Tensor in = iota({1, 3, 1, 2});
  EXPECT_EQ(shape_str(run1("Squeeze", {in}).shape()), "[3, 2]");
  EXPECT_EQ(shape_str(run1("Squeeze", {in, ints1({-2})}).shape()), "[1, 3, 2]");
  expect_bad_input([&] { run1("Squeeze", {in, ints1({1})}); }, "size 3");
}

TEST(UnsqueezeKernel, AxesCountInTheOutput) {
  Tensor in = iota({3, 4});
  EXPECT_EQ(shape_str(run1("Unsqueeze", {in, ints1({0, 3})}).shape()), "[1, 3, 4, 1]");
  EXPECT_EQ(shape_str(run1("Unsqueeze", {in, ints1({-1, 1})}).shape()), "[3, 1, 4, 1]");
  EXPECT_EQ(shape_str(run1("Unsqueeze", {Tensor::scalar<float>(1), ints1({0})}).shape()), "[1]");
  expect_bad_input([&] { run1("Unsqueeze", {in, ints1({1, 1})}); }, "repeat");
  expect_bad_input([&] { run1("Unsqueeze", {in, ints1({4})}); }, "out of range");
}

// ---- Concat, Split ----

TEST(ConcatKernel, MiddleAxisHandValues) {
  Tensor a = iota({2, 1, 2});
  Tensor b = floats({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17});
  Tensor empty(DType::kF32, {2, 0, 2});
  Tensor out = run1("Concat", {a, empty, b}, {{"axis", int64_t{-2}}});
  expect_tensor(out, DType::kF32, {2, 3, 2}, {0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17});
}

TEST(ConcatKernel, EveryDtypeMatchesReference) {
  std::mt19937 rng(3);
  for (DType dtype : kAllDtypes) {
    for (int64_t axis = 0; axis < 3; ++axis) {
      Shape sa{3, 4, 5}, sb{3, 4, 5};
      sb[size_t(axis)] = 2;
      Tensor a = random_tensor(dtype, sa, rng), b = random_tensor(dtype, sb, rng);
      Tensor out = run1("Concat", {a, b}, {{"axis", axis}});
      Shape so = sa;
      so[size_t(axis)] += 2;
      Tensor expected(dtype, so);
      size_t element = dtype_size(dtype);
      for (int64_t i = 0; i < expected.numel(); ++i) {
        Shape index = unravel(i, so);
        const Tensor* from = &a;
        if (index[size_t(axis)] >= sa[size_t(axis)]) {
          index[size_t(axis)] -= sa[size_t(axis)];
          from = &b;
        }
        std::memcpy(expected.raw() + i * int64_t(element),
                    from->raw() + ravel(index, from->shape()) * int64_t(element), element);
      }
      expect_same(out, expected);
    }
  }
}

TEST(ConcatKernel, MismatchesAreReported) {
  expect_bad_input(
      [] {
        run1("Concat", {iota({2, 3}), iota({3, 3})}, {{"axis", int64_t{1}}});
      },
      "incompatible");
  expect_bad_input(
      [] {
        run1("Concat", {iota({2, 3}), iota({2, 3, 1})}, {{"axis", int64_t{0}}});
      },
      "incompatible");
  expect_bad_input(
      [] {
        run1("Concat", {iota({2}), Tensor::from_vector<int64_t>({1}, {1})}, {{"axis", int64_t{0}}});
      },
      "i64");
}

TEST(SplitKernel, EqualPartsAndGivenSizes) {
  Tensor in = iota({2, 6});
  std::vector<Tensor> parts = run(make_node("Split", {{"axis", int64_t{1}}}, 3), {in});
  ASSERT_EQ(parts.size(), 3u);
  expect_tensor(parts[0], DType::kF32, {2, 2}, {0, 1, 6, 7});
  expect_tensor(parts[2], DType::kF32, {2, 2}, {4, 5, 10, 11});
  parts = run(make_node("Split", {{"axis", int64_t{-1}}}, 2), {in, ints1({1, 5})});
  expect_tensor(parts[0], DType::kF32, {2, 1}, {0, 6});
  expect_tensor(parts[1], DType::kF32, {2, 5}, {1, 2, 3, 4, 5, 7, 8, 9, 10, 11});
  // Uneven equal split: the last part is smaller (opset 18 rule).
  parts = run(make_node("Split", {}, 2), {iota({3})});
  expect_tensor(parts[0], DType::kF32, {2}, {0, 1});
  expect_tensor(parts[1], DType::kF32, {1}, {2});
  parts = run(make_node("Split", {}, 2), {iota({3}), ints1({0, 3})});
  expect_tensor(parts[0], DType::kF32, {0}, {});
  expect_tensor(parts[1], DType::kF32, {3}, {0, 1, 2});
}

TEST(SplitKernel, BadSizesAreReported) {
  expect_bad_input([] { run(make_node("Split", {}, 2), {iota({4}), ints1({1, 2})}); }, "add up");
  expect_bad_input([] { run(make_node("Split", {}, 3), {iota({4}), ints1({2, 2})}); }, "3 outputs");
}

// ---- Slice ----

TEST(SliceKernel, HandValues) {
  Tensor in = iota({3, 4});
  // rows 0..1, columns 3, 2, 1 (negative step)
  Tensor out = run1("Slice", {in, ints1({0, -1}), ints1({2, 0}), ints1({0, 1}), ints1({1, -1})});
  expect_tensor(out, DType::kF32, {2, 3}, {3, 2, 1, 7, 6, 5});
  // Out-of-range starts and ends clamp; INT64_MIN end with a negative step runs to the front.
  out = run1("Slice", {in, ints1({100}), ints1({std::numeric_limits<int64_t>::min()}), ints1({1}),
                       ints1({-2})});
  expect_tensor(out, DType::kF32, {3, 2}, {3, 1, 7, 5, 11, 9});
  // Steps at the int64 limits take one element.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  out = run1("Slice", {in, ints1({1}), ints1({4}), ints1({1}), ints1({kMax})});
  expect_tensor(out, DType::kF32, {3, 1}, {1, 5, 9});
  out = run1("Slice", {in, ints1({-1}), ints1({kMin}), ints1({1}), ints1({kMin})});
  expect_tensor(out, DType::kF32, {3, 1}, {3, 7, 11});
  out = run1("Slice", {in, ints1({5}), ints1({10}), ints1({0})});
  expect_tensor(out, DType::kF32, {0, 4}, {});
}

TEST(SliceKernel, RandomSlicesMatchReference) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int64_t> bound(-7, 7), step_dist(-3, 3);
  for (int trial = 0; trial < 300; ++trial) {
    Shape shape{4, 5, 6};
    DType dtype = kAllDtypes[trial % 5];
    Tensor in = random_tensor(dtype, shape, rng);
    std::vector<int64_t> starts, ends, axes, steps;
    for (int64_t axis = 0; axis < 3; ++axis) {
      if (rng() % 3 == 0) continue;
      int64_t step = 0;
      while (step == 0) step = step_dist(rng);
      starts.push_back(bound(rng));
      ends.push_back(bound(rng));
      axes.push_back(axis - (rng() % 2 ? 3 : 0));
      steps.push_back(step);
    }
    if (starts.empty()) continue;
    // Reference: per axis, the list of indices taken, with the clamping of the ONNX spec
    // (start in [0, n] or [0, n - 1] with a negative step; end in [0, n] or [-1, n - 1]).
    std::vector<std::vector<int64_t>> taken(3);
    for (size_t k = 0; k < 3; ++k) {
      for (int64_t i = 0; i < shape[k]; ++i) taken[k].push_back(i);
    }
    for (size_t i = 0; i < starts.size(); ++i) {
      size_t k = size_t((axes[i] + 3) % 3);
      int64_t n = shape[k], s = starts[i] < 0 ? starts[i] + n : starts[i];
      int64_t e = ends[i] < 0 ? ends[i] + n : ends[i];
      taken[k].clear();
      if (steps[i] > 0) {
        for (int64_t j = std::clamp<int64_t>(s, 0, n); j < std::clamp<int64_t>(e, 0, n);
             j += steps[i])
          taken[k].push_back(j);
      } else {
        for (int64_t j = std::clamp<int64_t>(s, 0, n - 1); j > std::clamp<int64_t>(e, -1, n - 1);
             j += steps[i])
          taken[k].push_back(j);
      }
    }
    Shape out_shape{int64_t(taken[0].size()), int64_t(taken[1].size()), int64_t(taken[2].size())};
    Tensor expected = reference_gather(in, out_shape, [&](const Shape& index) {
      return ravel(
          {taken[0][size_t(index[0])], taken[1][size_t(index[1])], taken[2][size_t(index[2])]},
          shape);
    });
    SCOPED_TRACE("starts " + shape_str(starts) + " ends " + shape_str(ends) + " axes " +
                 shape_str(axes) + " steps " + shape_str(steps));
    expect_same(run1("Slice", {in, ints1(starts), ints1(ends), ints1(axes), ints1(steps)}),
                expected);
  }
}

TEST(SliceKernel, BadArgumentsAreReported) {
  Tensor in = iota({3, 4});
  expect_bad_input(
      [&] {
        run1("Slice", {in, ints1({0}), ints1({1}), ints1({0}), ints1({0})});
      },
      "steps");
  expect_bad_input([&] { run1("Slice", {in, ints1({0, 0}), ints1({1})}); }, "lengths");
  expect_bad_input(
      [&] {
        run1("Slice", {in, ints1({0}), ints1({1}), ints1({2})});
      },
      "out of range");
}

// ---- Gather, GatherElements ----

TEST(GatherKernel, AxisOneWithNegativeIndices) {
  Tensor in = iota({2, 3});
  Tensor out = run1("Gather", {in, ints({2, 2}, {0, -1, 1, 1})}, {{"axis", int64_t{1}}});
  expect_tensor(out, DType::kF32, {2, 2, 2}, {0, 2, 1, 1, 3, 5, 4, 4});
  // Scalar index drops the axis; i32 indices work too.
  out = run1("Gather", {in, Tensor::scalar<int32_t>(1)});
  expect_tensor(out, DType::kF32, {3}, {3, 4, 5});
}

TEST(GatherKernel, EmbeddingLookupMatchesReference) {
  std::mt19937 rng(5);
  for (DType dtype : kAllDtypes) {
    Tensor table = random_tensor(dtype, {50, 17}, rng);
    Tensor ids(DType::kI64, {4, 9});
    for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int64_t>()[i] = int64_t(rng() % 100) - 50;
    Tensor expected = reference_gather(table, {4, 9, 17}, [&](const Shape& index) {
      int64_t id = ids.data<int64_t>()[index[0] * 9 + index[1]];
      return (id < 0 ? id + 50 : id) * 17 + index[2];
    });
    expect_same(run1("Gather", {table, ids}), expected);
  }
}

TEST(GatherKernel, OutOfRangeIndexNamesNode) {
  expect_bad_input(
      [] {
        run1("Gather", {iota({2, 3}), ints1({0, 3})}, {{"axis", int64_t{1}}});
      },
      "index 3 is out of range");
  expect_bad_input([] { run1("Gather", {iota({2, 3}), ints1({-3})}); }, "index -3");
  expect_bad_input([] { run1("Gather", {iota({2, 3}), floats({1}, {0})}); }, "i64 or i32");
}

TEST(GatherElementsKernel, OnnxExamples) {
  Tensor data = floats({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Tensor out = run1("GatherElements", {data, ints({2, 3}, {1, 2, 0, 2, 0, 0})});
  expect_tensor(out, DType::kF32, {2, 3}, {4, 8, 3, 7, 2, 3});
  out = run1("GatherElements", {data, ints({2, 2}, {0, -1, 1, 0})}, {{"axis", int64_t{1}}});
  expect_tensor(out, DType::kF32, {2, 2}, {1, 3, 5, 4});
  expect_bad_input([&] { run1("GatherElements", {data, ints({1, 1}, {3})}); }, "out of range");
}

// ---- Shape, Size, Constant, ConstantOfShape, Range ----

TEST(ShapeKernel, StartAndEnd) {
  Tensor in(DType::kI8, {2, 3, 4, 5});
  expect_tensor(run1("Shape", {in}), DType::kI64, {4}, {2, 3, 4, 5});
  expect_tensor(run1("Shape", {in}, {{"start", int64_t{1}}, {"end", int64_t{-1}}}), DType::kI64,
                {2}, {3, 4});
  expect_tensor(run1("Shape", {in}, {{"start", int64_t{-10}}, {"end", int64_t{10}}}), DType::kI64,
                {4}, {2, 3, 4, 5});
  expect_tensor(run1("Shape", {in}, {{"start", int64_t{3}}, {"end", int64_t{1}}}), DType::kI64, {0},
                {});
  expect_tensor(run1("Size", {in}), DType::kI64, {}, {120});
}

TEST(ConstantKernel, EveryAttributeForm) {
  Tensor value = ints({2}, {4, 5});
  Tensor out = run1("Constant", {}, {{"value", value}});
  EXPECT_EQ(out.raw(), value.raw());
  expect_tensor(run1("Constant", {}, {{"value_float", 2.5}}), DType::kF32, {}, {2.5});
  expect_tensor(run1("Constant", {}, {{"value_floats", std::vector<double>{1, 2}}}), DType::kF32,
                {2}, {1, 2});
  expect_tensor(run1("Constant", {}, {{"value_int", int64_t{7}}}), DType::kI64, {}, {7});
  expect_tensor(run1("Constant", {}, {{"value_ints", std::vector<int64_t>{1, 2, 3}}}), DType::kI64,
                {3}, {1, 2, 3});
  expect_bad_input([] { run1("Constant", {}); }, "value");
}

TEST(ConstantOfShapeKernel, DefaultAndTypedValue) {
  expect_tensor(run1("ConstantOfShape", {ints1({2, 2})}), DType::kF32, {2, 2}, {0, 0, 0, 0});
  expect_tensor(run1("ConstantOfShape", {ints1({3})}, {{"value", ints({1}, {-4})}}), DType::kI64,
                {3}, {-4, -4, -4});
  expect_tensor(run1("ConstantOfShape", {ints1({})}, {{"value", floats({1}, {1.5})}}), DType::kF32,
                {}, {1.5});
  expect_bad_input([] { run1("ConstantOfShape", {ints1({2, -1})}); }, "negative");
}

TEST(RangeKernel, DtypesAndSigns) {
  expect_tensor(run1("Range", {Tensor::scalar<float>(1), Tensor::scalar<float>(5),
                               Tensor::scalar<float>(1.5)}),
                DType::kF32, {3}, {1, 2.5, 4});
  expect_tensor(run1("Range", {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4),
                               Tensor::scalar<int32_t>(-3)}),
                DType::kI32, {2}, {10, 7});
  expect_tensor(run1("Range", {Tensor::scalar<int64_t>(0), Tensor::scalar<int64_t>(-1),
                               Tensor::scalar<int64_t>(1)}),
                DType::kI64, {0}, {});
  expect_tensor(run1("Range", {Tensor::scalar<double>(0), Tensor::scalar<double>(1),
                               Tensor::scalar<double>(0.25)}),
                DType::kF64, {4}, {0, 0.25, 0.5, 0.75});
  expect_tensor(run1("Range", {Tensor::scalar<int16_t>(-5), Tensor::scalar<int16_t>(5),
                               Tensor::scalar<int16_t>(4)}),
                DType::kI16, {3}, {-5, -1, 3});
  expect_bad_input(
      [] {
        run1("Range",
             {Tensor::scalar<int64_t>(0), Tensor::scalar<int64_t>(3), Tensor::scalar<int64_t>(0)});
      },
      "delta");
}

// ---- Expand, Tile ----

TEST(ExpandKernel, BothWaysBroadcast) {
  Tensor in = floats({3, 1}, {1, 2, 3});
  Tensor out = run1("Expand", {in, ints1({2, 1, 2})});
  expect_tensor(out, DType::kF32, {2, 3, 2}, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  // The target may be smaller than the input: the input's dims win.
  out = run1("Expand", {in, ints1({1})});
  expect_tensor(out, DType::kF32, {3, 1}, {1, 2, 3});
  expect_bad_input([&] { run1("Expand", {in, ints1({2, 2})}); }, "cannot expand");
}

TEST(ExpandKernel, MatchesReference) {
  std::mt19937 rng(6);
  for (DType dtype : kAllDtypes) {
    Tensor in = random_tensor(dtype, {1, 4, 1, 3}, rng);
    Shape out_shape{2, 5, 4, 7, 3};
    Tensor expected = reference_gather(in, out_shape, [&](const Shape& index) {
      return ravel({0, index[2], 0, index[4]}, in.shape());
    });
    expect_same(run1("Expand", {in, ints1({2, 5, 1, 7, 1})}), expected);
  }
}

TEST(TileKernel, MatchesReference) {
  std::mt19937 rng(7);
  for (DType dtype : kAllDtypes) {
    Tensor in = random_tensor(dtype, {2, 3, 4}, rng);
    std::vector<int64_t> repeats{3, 1, 2};
    Shape out_shape{6, 3, 8};
    Tensor expected = reference_gather(in, out_shape, [&](const Shape& index) {
      return ravel({index[0] % 2, index[1] % 3, index[2] % 4}, in.shape());
    });
    expect_same(run1("Tile", {in, ints1(repeats)}), expected);
  }
  EXPECT_EQ(shape_str(run1("Tile", {iota({2, 3}), ints1({0, 2})}).shape()), "[0, 6]");
  expect_bad_input([] { run1("Tile", {iota({2, 3}), ints1({2})}); }, "repeats");
}

// ---- Pad ----

TEST(PadKernel, ConstantReflectEdgeHandValues) {
  Tensor in = floats({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor pads = ints1({0, 2, 0, 0});  // two columns in front
  expect_tensor(run1("Pad", {in, pads, Tensor::scalar<float>(9)}), DType::kF32, {3, 4},
                {9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 5, 6});
  // numpy.pad(x, ((0, 0), (2, 0)), mode='reflect') / 'edge'
  expect_tensor(run1("Pad", {in, pads}, {{"mode", std::string("reflect")}}), DType::kF32, {3, 4},
                {1, 2, 1, 2, 3, 4, 3, 4, 5, 6, 5, 6});
  expect_tensor(run1("Pad", {in, pads}, {{"mode", std::string("edge")}}), DType::kF32, {3, 4},
                {1, 1, 1, 2, 3, 3, 3, 4, 5, 5, 5, 6});
  // numpy.pad(x, ((2, 1), (0, 0)), mode='reflect')
  expect_tensor(run1("Pad", {in, ints1({2, 0, 1, 0})}, {{"mode", std::string("reflect")}}),
                DType::kF32, {6, 2}, {5, 6, 3, 4, 1, 2, 3, 4, 5, 6, 3, 4});
  // Negative pads crop; the default constant is 0.
  expect_tensor(run1("Pad", {in, ints1({-1, 1, 0, 0})}), DType::kF32, {2, 3}, {0, 3, 4, 0, 5, 6});
}

TEST(PadKernel, IntegerAndBoolDtypes) {
  Tensor in = Tensor::from_vector<int8_t>({2}, {3, -4});
  expect_tensor(run1("Pad", {in, ints1({1, 2}), Tensor::scalar<int8_t>(-1)}), DType::kI8, {5},
                {-1, 3, -4, -1, -1});
  Tensor flags = Tensor::from_vector<bool>({2}, {true, false});
  expect_tensor(run1("Pad", {flags, ints1({1, 1})}), DType::kBool, {4}, {0, 1, 0, 0});
}

TEST(PadKernel, BadArgumentsAreReported) {
  Tensor in = iota({2, 2});
  expect_bad_input([&] { run1("Pad", {in, ints1({1, 1})}); }, "pads has 2 entries");
  expect_bad_input([&] { run1("Pad", {in, ints1({-3, 0, 0, 0})}); }, "negative or too large");
  expect_bad_input(
      [&] {
        run1("Pad", {in, ints1({0, std::numeric_limits<int64_t>::max(), 0, 1})});
      },
      "negative or too large");
  expect_bad_input(
      [&] {
        run1("Pad", {in, ints1({1, 0, 0, 0})}, {{"mode", std::string("wrap")}});
      },
      "wrap");
  expect_bad_input([&] { run1("Pad", {in, ints1({1, 0, 0, 0}), ints1({0})}); }, "constant_value");
}

// ---- Trilu, CumSum ----

TEST(TriluKernel, UpperAndLowerMatchReference) {
  std::mt19937 rng(8);
  for (DType dtype : kAllDtypes) {
    Tensor in = random_tensor(dtype, {2, 4, 5}, rng);
    for (int64_t k : {-6, -2, -1, 0, 1, 3, 7}) {
      for (int64_t upper : {0, 1}) {
        Tensor expected = in.clone();
        size_t element = dtype_size(dtype);
        for (int64_t i = 0; i < in.numel(); ++i) {
          Shape index = unravel(i, in.shape());
          int64_t diagonal = index[2] - index[1];
          bool keep = upper ? diagonal >= k : diagonal <= k;
          if (!keep) std::memset(expected.raw() + i * int64_t(element), 0, element);
        }
        SCOPED_TRACE("k " + std::to_string(k) + " upper " + std::to_string(upper));
        expect_same(run1("Trilu", {in, Tensor::scalar<int64_t>(k)}, {{"upper", upper}}), expected);
      }
    }
  }
}

TEST(CumSumKernel, ExclusiveAndReverse) {
  Tensor x = floats({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor axis = Tensor::scalar<int64_t>(1);
  expect_tensor(run1("CumSum", {x, axis}), DType::kF32, {2, 3}, {1, 3, 6, 4, 9, 15});
  expect_tensor(run1("CumSum", {x, axis}, {{"exclusive", int64_t{1}}}), DType::kF32, {2, 3},
                {0, 1, 3, 0, 4, 9});
  expect_tensor(run1("CumSum", {x, axis}, {{"reverse", int64_t{1}}}), DType::kF32, {2, 3},
                {6, 5, 3, 15, 11, 6});
  expect_tensor(run1("CumSum", {x, Tensor::scalar<int32_t>(-2)},
                     {{"reverse", int64_t{1}}, {"exclusive", int64_t{1}}}),
                DType::kF32, {2, 3}, {4, 5, 6, 0, 0, 0});
  expect_tensor(run1("CumSum", {ints1({1, 2, 3}), Tensor::scalar<int64_t>(0)}), DType::kI64, {3},
                {1, 3, 6});
}

TEST(CumSumKernel, EveryOnnxDtype) {
  Tensor axis = Tensor::scalar<int64_t>(0);
  for (DType dtype : {DType::kF64, DType::kF16, DType::kU32, DType::kU64, DType::kI32}) {
    Tensor x = floats({4}, {1, 2, 3, 4}).cast(dtype);
    expect_tensor(run1("CumSum", {x, axis}), dtype, {4}, {1, 3, 6, 10});
    expect_tensor(run1("CumSum", {x, axis}, {{"reverse", int64_t{1}}, {"exclusive", int64_t{1}}}),
                  dtype, {4}, {9, 7, 4, 0});
  }
  // f64 keeps what f32 would lose; f16 rounds each running sum once (2048 + 1 is a tie: 2048).
  Tensor fine = Tensor::from_vector<double>({2}, {1.0, 1e-12});
  EXPECT_EQ(run1("CumSum", {fine, axis}).data<double>()[1], 1.0 + 1e-12);
  Tensor halves = floats({3}, {2048, 1, 2}).cast(DType::kF16);
  expect_tensor(run1("CumSum", {halves, axis}), DType::kF16, {3}, {2048, 2048, 2052});
}

}  // namespace
}  // namespace aimc::runtime
