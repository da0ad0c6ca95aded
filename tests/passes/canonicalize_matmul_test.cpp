#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

TEST(CanonicalizeMatmul, MatMulPlusBiasBecomesLinear) {
  GraphBuilder b;
  ir::Value* x =
      b.input("x", ir::SymShape{ir::Dim::symbolic("batch"), ir::Dim::of(5), ir::Dim::of(4)});
  ir::Value* y = b.op("MatMul", {x, b.constant("w", random_tensor({4, 3}, 1))}, {}, "/fc/MatMul");
  b.output(b.op("Add", {b.constant("bias", random_tensor({3}, 2)), y}, {}, "/fc/Add"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, canonicalize_matmul, 1, {{"batch", 2}});
  eliminate_dead_code(*after);
  EXPECT_EQ(ir::print_graph(*after),
            "graph main(%x: f32[batch, 5, 4]) -> (%/fc/Add: f32[batch, 5, 3]) {\n"
            "  @w: f32[4, 3]\n"
            "  @/fc/MatMul_bias_0: f32[3]\n"  // the bias as a new [N] constant
            "  %/fc/Add: f32[batch, 5, 3] = linear(%x, @w, @/fc/MatMul_bias_0)  // /fc/MatMul\n"
            "}\n");
}

TEST(CanonicalizeMatmul, BiasOfShapeOnesThenNAndScalarBias) {
  for (Shape bias_shape : {Shape{1, 1, 3}, Shape{1}, Shape{}}) {
    SCOPED_TRACE(shape_str(bias_shape));
    GraphBuilder b;
    ir::Value* x = b.input("x", Shape{2, 5, 4});
    ir::Value* y = b.op("MatMul", {x, b.constant("w", random_tensor({4, 3}, 1))});
    b.output(b.op("Add", {y, b.constant("bias", random_tensor(bias_shape, 2))}, {}, "out"));
    auto after = run_and_compare(*b.finish(), canonicalize_matmul, 1);
    EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"linear", 1}}));
  }
}

TEST(CanonicalizeMatmul, BiasThatChangesTheShapeIsNotFused) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{5, 4});
  ir::Value* y = b.op("MatMul", {x, b.constant("w", random_tensor({4, 3}, 1))});
  b.output(b.op("Add", {y, b.constant("rows", random_tensor({5, 1}, 2))}, {}, "per_row"));
  auto after = run_and_compare(*b.finish(), canonicalize_matmul, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Add", 1}, {"linear", 1}}));
}

TEST(CanonicalizeMatmul, BiasAddNotFusedWhenTheProductHasAnotherReader) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 4});
  ir::Value* y = b.op("MatMul", {x, b.constant("w", random_tensor({4, 3}, 1))}, {}, "mm");
  b.output(b.op("Add", {y, b.constant("bias", random_tensor({3}, 2))}, {}, "out"));
  b.output(b.op("Relu", {y}, {}, "other"));
  auto after = run_and_compare(*b.finish(), canonicalize_matmul, 1);
  EXPECT_EQ(op_histogram(*after),
            (std::map<std::string, int>{{"Add", 1}, {"Relu", 1}, {"linear", 1}}));
  EXPECT_EQ(after->find_node("mm")->inputs.size(), 2u);
}

TEST(CanonicalizeMatmul, LinearWithoutBiasTakesALaterBiasAdd) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 4});
  ir::Value* y = b.op("linear", {x, b.constant("w", random_tensor({4, 3}, 1))}, {}, "fc");
  b.output(b.op("Add", {y, b.constant("bias", random_tensor({3}, 2))}, {}, "out"));
  auto after = run_and_compare(*b.finish(), canonicalize_matmul, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"linear", 1}}));
  EXPECT_EQ(after->find_node("fc")->inputs.size(), 3u);
}

TEST(CanonicalizeMatmul, GemmWithTransposedWeightAlphaBeta) {
  for (Shape c_shape : {Shape{3}, Shape{1, 3}, Shape{}}) {
    SCOPED_TRACE(shape_str(c_shape));
    GraphBuilder b;
    ir::Value* a = b.input("a", Shape{2, 4});
    b.output(b.op(
        "Gemm",
        {a, b.constant("b", random_tensor({3, 4}, 1)), b.constant("c", random_tensor(c_shape, 2))},
        {{"transB", int64_t{1}}, {"alpha", 0.5}, {"beta", 2.0}}, "gemm"));
    auto after = run_and_compare(*b.finish(), canonicalize_matmul, 1);
    const ir::Node* linear = after->find_node("gemm");
    EXPECT_EQ(linear->op, "linear");
    EXPECT_EQ(linear->input(1)->constant.shape(), (Shape{4, 3}));
  }
}

TEST(CanonicalizeMatmul, GemmWithoutCAndGemmThatStays) {
  GraphBuilder b;
  ir::Value* a = b.input("a", Shape{2, 4});
  b.output(b.op("Gemm", {a, b.constant("b", random_tensor({4, 3}, 1))}, {}, "no_c"));
  b.output(b.op(
      "Gemm",
      {a, b.constant("b2", random_tensor({4, 3}, 3)), b.constant("c2", random_tensor({2, 3}, 2))},
      {}, "full_c"));
  b.output(
      b.op("Gemm",
           {b.constant("at", random_tensor({4, 2}, 4)), b.constant("b3", random_tensor({4, 3}, 5))},
           {{"transA", int64_t{1}}}, "trans_a"));
  auto after = run_and_compare(*b.finish(), canonicalize_matmul, 1);
  EXPECT_EQ(after->find_node("no_c")->op, "linear");
  EXPECT_EQ(after->find_node("full_c")->op, "Gemm");
  EXPECT_EQ(after->find_node("trans_a")->op, "Gemm");
}

TEST(CanonicalizeMatmul, ProductsOfActivationsAndOtherConstantsBecomeMatmul) {
  GraphBuilder b;
  ir::Value* q = b.input("q", Shape{2, 3, 4});
  ir::Value* k = b.input("k", Shape{2, 4, 3});
  b.output(b.op("MatMul", {q, k}, {}, "scores"));
  b.output(
      b.op("MatMul", {q, b.constant("batched", random_tensor({2, 4, 5}, 1))}, {}, "batched_w"));
  b.output(b.op("MatMul", {b.constant("left", random_tensor({6, 4}, 2)), b.op("Relu", {k})}, {},
                "left_w"));
  auto after = run_and_compare(*b.finish(), canonicalize_matmul, 3);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Relu", 1}, {"matmul", 3}}));
  EXPECT_EQ(after->find_node("scores")->op, "matmul");
}

}  // namespace
}  // namespace aimc::passes::test
