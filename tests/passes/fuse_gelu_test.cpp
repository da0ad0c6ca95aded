#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

// How the final 0.5 * x * c product is associated and ordered.
enum class Product { kXcThenHalf, kHalfXThenC, kCHalfThenX, kHalfFirstOperands };

ir::Value* half_x_product(GraphBuilder& b, ir::Value* x, ir::Value* c, Product product) {
  switch (product) {
    case Product::kXcThenHalf:  // PyTorch's erf GELU
      return b.op("Mul", {b.op("Mul", {x, c}, {}, "/act/Mul"), b.constant(0.5f)}, {}, "/act/Mul_1");
    case Product::kHalfXThenC:
      return b.op("Mul", {b.op("Mul", {x, b.constant(0.5f)}, {}, "/act/Mul"), c}, {}, "/act/Mul_1");
    case Product::kCHalfThenX:
      return b.op("Mul", {x, b.op("Mul", {c, b.constant(0.5f)}, {}, "/act/Mul")}, {}, "/act/Mul_1");
    case Product::kHalfFirstOperands:
      return b.op("Mul", {c, b.op("Mul", {b.constant(0.5f), x}, {}, "/act/Mul")}, {}, "/act/Mul_1");
  }
  return nullptr;
}

std::unique_ptr<ir::Graph> erf_gelu(Product product, bool multiply_by_inverse = false,
                                    float sqrt2 = 1.4142135f) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{3, 7});
  ir::Value* scaled = multiply_by_inverse
                          ? b.op("Mul", {b.constant(1.0f / sqrt2), x}, {}, "/act/Mul_0")
                          : b.op("Div", {x, b.constant(sqrt2)}, {}, "/act/Div");
  ir::Value* erf = b.op("Erf", {scaled}, {}, "/act/Erf");
  ir::Value* c = b.op("Add", {erf, b.constant(1.0f)}, {}, "/act/Add");
  b.output(half_x_product(b, x, c, product));
  return b.finish();
}

class FuseGeluErf : public testing::TestWithParam<Product> {};

TEST_P(FuseGeluErf, BecomesGeluNone) {
  auto after = run_and_compare(*erf_gelu(GetParam()), fuse_gelu, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"gelu", 1}}));
  const ir::Node* gelu = after->nodes()[0].get();
  EXPECT_EQ(gelu->name, "/act/gelu");
  EXPECT_EQ(gelu->attr_string("approximate", ""), "none");
  EXPECT_EQ(gelu->output(0)->name, "/act/Mul_1");
  EXPECT_EQ(gelu->input(0)->name, "x");
}

INSTANTIATE_TEST_SUITE_P(Products, FuseGeluErf,
                         testing::Values(Product::kXcThenHalf, Product::kHalfXThenC,
                                         Product::kCHalfThenX, Product::kHalfFirstOperands));

TEST(FuseGelu, ErfOfXTimesInverseSqrt2) {
  auto after = run_and_compare(*erf_gelu(Product::kXcThenHalf, true), fuse_gelu, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"gelu", 1}}));
}

TEST(FuseGelu, WrongConstantIsNotFused) {
  run_and_compare(*erf_gelu(Product::kXcThenHalf, false, 1.5f), fuse_gelu, 0);
  auto graph = erf_gelu(Product::kXcThenHalf);
  graph->find_node("/act/Mul_1")->inputs[1] = graph->add_constant("not_half", scalar(0.25f));
  run_and_compare(*graph, fuse_gelu, 0);
}

TEST(FuseGelu, ErfOutputReadElsewhereIsNotFused) {
  auto graph = erf_gelu(Product::kXcThenHalf);
  graph->outputs.push_back(graph->find_value("/act/Erf"));
  auto after = run_and_compare(*graph, fuse_gelu, 0);
  EXPECT_EQ(op_histogram(*after).count("gelu"), 0u);
}

TEST(FuseGelu, ScalarOfHigherRankIsNotFused) {
  // A [1, 1, 1] 0.5 would broadcast x[3, 7] up to rank 3: not a GELU of x.
  auto graph = erf_gelu(Product::kXcThenHalf);
  graph->find_node("/act/Mul_1")->inputs[1] =
      graph->add_constant("half_3d", Tensor::from_vector<float>({1, 1, 1}, {0.5f}));
  ir::infer_shapes(*graph);
  run_and_compare(*graph, fuse_gelu, 0);
}

std::unique_ptr<ir::Graph> tanh_gelu(bool use_pow, bool torch_order) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{4, 5});
  ir::Value* cube =
      use_pow ? b.op("Pow", {x, b.constant(3.0f)}) : b.op("Mul", {x, b.op("Mul", {x, x})});
  ir::Value* cubic = b.op("Mul", {b.constant(0.044715f), cube});
  ir::Value* inner = torch_order ? b.op("Add", {x, cubic}) : b.op("Add", {cubic, x});
  ir::Value* scaled = b.op("Mul", {b.constant(0.7978845608f), inner});
  ir::Value* t = b.op("Tanh", {scaled});
  ir::Value* c = b.op("Add", {b.constant(1.0f), t});
  ir::Value* y =
      torch_order ? b.op("Mul", {b.constant(0.5f), b.op("Mul", {x, c}, {}, "/act/Mul")}, {}, "y")
                  : b.op("Mul", {b.op("Mul", {b.constant(0.5f), x}, {}, "/act/Mul"), c}, {}, "y");
  b.output(y);
  return b.finish();
}

TEST(FuseGelu, TanhFormWithPowOrProducts) {
  for (bool use_pow : {true, false}) {
    for (bool torch_order : {true, false}) {
      SCOPED_TRACE(testing::Message() << "pow " << use_pow << " torch order " << torch_order);
      auto after = run_and_compare(*tanh_gelu(use_pow, torch_order), fuse_gelu, 1);
      EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"gelu", 1}}));
      EXPECT_EQ(after->nodes()[0]->attr_string("approximate", ""), "tanh");
      EXPECT_EQ(after->nodes()[0]->name, "y");  // no common module path: the last node's name
    }
  }
}

TEST(FuseGelu, TanhWithSquareReadElsewhereIsNotFused) {
  auto graph = tanh_gelu(false, true);
  const ir::Node* outer = nullptr;
  for (const auto& node : graph->nodes()) {
    if (node->op == "Mul" && node->inputs[0] == node->inputs[1]) outer = node.get();
  }
  ASSERT_NE(outer, nullptr);
  graph->outputs.push_back(outer->output(0));
  run_and_compare(*graph, fuse_gelu, 0);
}

}  // namespace
}  // namespace aimc::passes::test
