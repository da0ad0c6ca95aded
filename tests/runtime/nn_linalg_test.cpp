// MatMul / matmul, Gemm and linear: the sgemm-backed kernels against the plain reference loops
// and against hand-computed values.
#include "aimc/runtime/reference_kernels.h"
#include "runtime/nn_test_util.h"

namespace aimc::nn_test {
namespace {

TEST(NnMatMulTest, HandComputed) {
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2, 2}, {5, 6, 7, 8});
  Tensor y = TestNode("MatMul").run1({a, b});
  EXPECT_TRUE(tensors_close(y, Tensor::from_vector<float>({2, 2}, {19, 22, 43, 50})));
}

struct MatMulCase {
  Shape a, b, expected;
};

void PrintTo(const MatMulCase& c, std::ostream* os) {
  *os << shape_str(c.a) << " x " << shape_str(c.b);
}

class NnMatMulShapes : public testing::TestWithParam<MatMulCase> {};

TEST_P(NnMatMulShapes, MatchesReference) {
  const MatMulCase& c = GetParam();
  Tensor a = random_tensor(c.a, 1);
  Tensor b = random_tensor(c.b, 2);
  for (const char* op : {"MatMul", "matmul"}) {
    Tensor y = TestNode(op).run1({a, b});
    EXPECT_EQ(y.shape(), c.expected) << op;
    EXPECT_TRUE(tensors_close(y, runtime::reference::matmul(a, b))) << op;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, NnMatMulShapes,
    testing::Values(MatMulCase{{3, 4}, {4, 5}, {3, 5}},
                    MatMulCase{{4}, {4, 5}, {5}},                          // 1-D left operand
                    MatMulCase{{2, 3, 4}, {4}, {2, 3}},                    // 1-D right operand
                    MatMulCase{{4}, {4}, {}},                              // dot product
                    MatMulCase{{4}, {2, 4, 5}, {2, 5}},                    // 1-D against a batch
                    MatMulCase{{2, 3, 4}, {4, 5}, {2, 3, 5}},              // shared right
                    MatMulCase{{3, 4}, {2, 4, 5}, {2, 3, 5}},              // shared left
                    MatMulCase{{2, 1, 3, 4}, {5, 4, 6}, {2, 5, 3, 6}},     // both broadcast
                    MatMulCase{{2, 5, 3, 4}, {2, 5, 4, 6}, {2, 5, 3, 6}},  // attention-like
                    MatMulCase{{1, 3, 0}, {0, 2}, {1, 3, 2}},              // empty K
                    MatMulCase{{64, 96}, {96, 80}, {64, 80}}));            // BLAS blocking

TEST(NnMatMulTest, IntegerOperands) {
  Tensor a = Tensor::from_vector<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::from_vector<int64_t>({3, 1}, {1, 0, -1});
  Tensor y = TestNode("MatMul").run1({a, b});
  EXPECT_EQ(y.dtype(), DType::kI64);
  EXPECT_EQ(y.to_int_vector(), (std::vector<int64_t>{-2, -2}));
}

TEST(NnMatMulTest, RejectsBadShapes) {
  expect_bad_input([] {
    TestNode("MatMul").run({random_tensor({3, 4}, 1), random_tensor({5, 2}, 2)});
  });
  expect_bad_input([] {
    TestNode("MatMul").run({random_tensor({2, 3, 4}, 1), random_tensor({3, 4, 2}, 2)});
  });
  expect_bad_input([] { TestNode("MatMul").run({Tensor::scalar(1.0f), random_tensor({1}, 2)}); });
}

struct GemmCase {
  bool trans_a, trans_b;
  float alpha, beta;
  Shape c;  // empty vector with has_c = false: no C
  bool has_c;
};

void PrintTo(const GemmCase& g, std::ostream* os) {
  *os << "transA=" << g.trans_a << " transB=" << g.trans_b << " alpha=" << g.alpha
      << " beta=" << g.beta << " C=" << (g.has_c ? shape_str(g.c) : "none");
}

class NnGemm : public testing::TestWithParam<GemmCase> {};

TEST_P(NnGemm, MatchesReference) {
  const GemmCase& g = GetParam();
  const int64_t m = 5, k = 7, n = 6;
  Tensor a = random_tensor(g.trans_a ? Shape{k, m} : Shape{m, k}, 3);
  Tensor b = random_tensor(g.trans_b ? Shape{n, k} : Shape{k, n}, 4);
  Tensor c = g.has_c ? random_tensor(g.c, 5) : Tensor();
  TestNode node("Gemm", {{"transA", int64_t{g.trans_a}},
                         {"transB", int64_t{g.trans_b}},
                         {"alpha", double{g.alpha}},
                         {"beta", double{g.beta}}});
  std::vector<Tensor> inputs = {a, b};
  if (g.has_c) inputs.push_back(c);
  Tensor y = node.run1(inputs);
  EXPECT_TRUE(tensors_close(
      y, runtime::reference::gemm_onnx(a, b, c, g.alpha, g.beta, g.trans_a, g.trans_b)));
}

INSTANTIATE_TEST_SUITE_P(Attributes, NnGemm,
                         testing::Values(GemmCase{false, false, 1, 1, {}, false},
                                         GemmCase{true, false, 1, 1, {5, 6}, true},
                                         GemmCase{false, true, 0.5f, 2, {6}, true},
                                         GemmCase{true, true, -1, 0.25f, {5, 1}, true},
                                         GemmCase{false, false, 2, 3, {}, true},  // scalar C
                                         GemmCase{false, false, 1, 1, {1, 6}, true}));

TEST(NnGemmTest, HandComputedAlphaBeta) {
  Tensor a = Tensor::from_vector<float>({1, 2}, {1, 2});
  Tensor b = Tensor::from_vector<float>({2, 1}, {3, 4});
  Tensor c = Tensor::from_vector<float>({1}, {10});
  Tensor y = TestNode("Gemm", {{"alpha", 2.0}, {"beta", 0.5}}).run1({a, b, c});
  EXPECT_TRUE(tensors_close(y, Tensor::from_vector<float>({1, 1}, {27})));  // 2 * 11 + 5
}

TEST(NnGemmTest, RejectsCThatDoesNotBroadcast) {
  expect_bad_input([] {
    TestNode("Gemm").run(
        {random_tensor({5, 7}, 1), random_tensor({7, 6}, 2), random_tensor({5}, 3)});
  });
  expect_bad_input([] {
    TestNode("Gemm").run({random_tensor({5, 7}, 1), random_tensor({6, 7}, 2)});
  });
}

TEST(NnLinearTest, MatchesReferenceWithAndWithoutBias) {
  Tensor x = random_tensor({2, 3, 16}, 7);
  Tensor w = random_tensor({16, 24}, 8);
  Tensor b = random_tensor({24}, 9);
  Tensor with_bias = TestNode("linear").run1({x, w, b});
  EXPECT_EQ(with_bias.shape(), (Shape{2, 3, 24}));
  EXPECT_TRUE(tensors_close(with_bias, runtime::reference::linear(x, w, b)));
  Tensor without = TestNode("linear").run1({x, w, Tensor()});
  EXPECT_TRUE(tensors_close(without, runtime::reference::linear(x, w, Tensor())));
  Tensor two_inputs = TestNode("linear").run1({x, w});
  EXPECT_TRUE(tensors_close(two_inputs, without, 0, 0));
}

TEST(NnLinearTest, RejectsBadShapes) {
  expect_bad_input([] {
    TestNode("linear").run({random_tensor({3, 16}, 1), random_tensor({15, 4}, 2)});
  });
  expect_bad_input([] {
    TestNode("linear").run(
        {random_tensor({3, 16}, 1), random_tensor({16, 4}, 2), random_tensor({5}, 3)});
  });
}

TEST(NnReferenceTest, GemmLoopIsRight) {
  // The reference itself, against hand-computed values.
  float a[] = {1, 2, 3, 4, 5, 6};  // [2, 3]
  float b[] = {1, 0, 0, 1, 1, 1};  // [3, 2]
  float c[4];
  runtime::reference::gemm(a, b, c, 2, 2, 3);
  EXPECT_EQ(std::vector<float>(c, c + 4), (std::vector<float>{4, 5, 10, 11}));
}

}  // namespace
}  // namespace aimc::nn_test
