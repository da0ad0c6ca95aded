#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

struct DecomposedOptions {
  int64_t axis = -1;
  bool gamma = true, beta = true;
  bool constants_first = false;     // Mul(gamma, n) and Add(beta, y)
  bool publish_difference = false;  // d = x - mean is also a graph output
};

// The LayerNorm decomposition PyTorch exports below opset 17, over x[2, 5, 8].
std::unique_ptr<ir::Graph> decomposed(const DecomposedOptions& options) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 5, 8});
  std::map<std::string, ir::AttrValue> axes = {{"axes", std::vector<int64_t>{options.axis}}};
  ir::Value* mean = b.op("ReduceMean", {x}, axes, "/ln/ReduceMean");
  ir::Value* d = b.op("Sub", {x, mean}, {}, "/ln/Sub");
  ir::Value* p = b.op("Pow", {d, b.constant(2.0f)}, {}, "/ln/Pow");
  ir::Value* v = b.op("ReduceMean", {p}, axes, "/ln/ReduceMean_1");
  ir::Value* e = b.op("Add", {v, b.constant(1e-5f)}, {}, "/ln/Add");
  ir::Value* s = b.op("Sqrt", {e}, {}, "/ln/Sqrt");
  ir::Value* y = b.op("Div", {d, s}, {}, "/ln/Div");
  if (options.gamma) {
    ir::Value* gamma = b.constant("gamma", random_tensor({8}, 11));
    y = b.op("Mul", options.constants_first ? std::vector{gamma, y} : std::vector{y, gamma}, {},
             "/ln/Mul");
  }
  if (options.beta) {
    ir::Value* beta = b.constant("beta", random_tensor({8}, 12));
    y = b.op("Add", options.constants_first ? std::vector{beta, y} : std::vector{y, beta}, {},
             "/ln/Add_1");
  }
  b.output(y);
  if (options.publish_difference) b.output(d);
  return b.finish();
}

TEST(FuseLayerNorm, DecomposedPatternBecomesLayerNorm) {
  auto graph = decomposed({});
  auto after = run_and_compare(*graph, fuse_layer_norm, 1);
  eliminate_dead_code(*after);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"layer_norm", 1}}));
  const ir::Node* ln = after->nodes()[0].get();
  EXPECT_EQ(ln->name, "/ln/layer_norm");
  EXPECT_EQ(ln->output(0)->name, "/ln/Add_1");
  EXPECT_EQ(ln->attr_int("axis", 0), -1);
  EXPECT_NEAR(ln->attr_float("epsilon", 0), 1e-5, 1e-12);
  EXPECT_EQ(ln->inputs.size(), 3u);
}

TEST(FuseLayerNorm, ConstantsFirstAndPositiveAxis) {
  auto after =
      run_and_compare(*decomposed({.axis = 2, .constants_first = true}), fuse_layer_norm, 1);
  EXPECT_EQ(op_histogram(*after)["layer_norm"], 1);
}

TEST(FuseLayerNorm, WithoutGammaOrBeta) {
  auto after = run_and_compare(*decomposed({.gamma = false, .beta = false}), fuse_layer_norm, 1);
  eliminate_dead_code(*after);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"layer_norm", 1}}));
  after = run_and_compare(*decomposed({.gamma = false}), fuse_layer_norm, 1);
  EXPECT_EQ(after->nodes().back()->inputs.size(), 3u);
  after = run_and_compare(*decomposed({.beta = false}), fuse_layer_norm, 1);
  EXPECT_EQ(after->nodes().back()->inputs.size(), 2u);
}

TEST(FuseLayerNorm, IntermediateReadElsewhereIsNotFused) {
  auto after = run_and_compare(*decomposed({.publish_difference = true}), fuse_layer_norm, 0);
  EXPECT_EQ(op_histogram(*after).count("layer_norm"), 0u);
}

TEST(FuseLayerNorm, OtherAxisIsNotFused) {
  auto graph = decomposed({.axis = 1, .gamma = false, .beta = false});
  run_and_compare(*graph, fuse_layer_norm, 0);
}

TEST(FuseLayerNorm, WrongExponentIsNotFused) {
  auto graph = decomposed({});
  ir::Node* pow = graph->find_node("/ln/Pow");
  pow->inputs[1] = graph->add_constant("four", scalar(4.0f));
  run_and_compare(*graph, fuse_layer_norm, 0);
}

TEST(FuseLayerNorm, OnnxLayerNormalizationWithUnusedStatistics) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{3, 4, 6});
  b.output(b.op("LayerNormalization",
                {x, b.constant("scale", random_tensor({4, 6}, 1)),
                 b.constant("bias", random_tensor({4, 6}, 2))},
                {{"axis", int64_t{1}}, {"epsilon", 1e-3}}, "ln", 3));
  auto graph = b.finish();
  auto after = run_and_compare(*graph, fuse_layer_norm, 1);
  const ir::Node* ln = after->find_node("ln");
  EXPECT_EQ(ln->op, "layer_norm");
  EXPECT_EQ(ln->outputs.size(), 1u);
  EXPECT_EQ(ln->attr_int("axis", 0), 1);
  EXPECT_NO_THROW(eliminate_dead_code(*after));
  EXPECT_NO_THROW(ir::verify(*after));
}

TEST(FuseLayerNorm, OnnxLayerNormalizationWithReadStatisticsStays) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{3, 6});
  b.output(
      b.op("LayerNormalization", {x, b.constant("scale", random_tensor({6}, 1))}, {}, "ln", 2));
  b.output(b.graph().find_value("ln:1"));
  auto graph = b.finish();
  auto after = run_and_compare(*graph, fuse_layer_norm, 0);
  EXPECT_EQ(after->find_node("ln")->op, "LayerNormalization");
}

}  // namespace
}  // namespace aimc::passes::test
