#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

// x[1, 3, 6, 6] -> Conv(4 output channels, 3x3, pad 1) -> BatchNormalization -> y.
std::unique_ptr<ir::Graph> conv_bn(bool conv_bias, const std::string& conv_op = "Conv") {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{1, 3, 6, 6});
  std::vector<ir::Value*> conv_inputs = {x, b.constant("w", random_tensor({4, 3, 3, 3}, 1))};
  if (conv_bias) conv_inputs.push_back(b.constant("b", random_tensor({4}, 2)));
  std::map<std::string, ir::AttrValue> attrs = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  if (conv_op == "conv") {
    attrs["kernel_shape"] = std::vector<int64_t>{3, 3};
    attrs["strides"] = std::vector<int64_t>{1, 1};
    attrs["dilations"] = std::vector<int64_t>{1, 1};
    attrs["group"] = int64_t{1};
  }
  ir::Value* conv = b.op(conv_op, conv_inputs, attrs, "conv1");
  b.output(b.op(
      "BatchNormalization",
      {conv, b.constant("scale", random_tensor({4}, 3)), b.constant("shift", random_tensor({4}, 4)),
       b.constant("mean", random_tensor({4}, 5)), b.constant("var", random_positive({4}, 6))},
      {{"epsilon", 1e-3}}, "bn1"));
  return b.finish();
}

TEST(FoldBatchNorm, FoldsIntoConvWithBias) {
  auto graph = conv_bn(true);
  auto after = run_and_compare(*graph, fold_batchnorm, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Conv", 1}}));
  const ir::Node* conv = after->find_node("conv1");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->output(0)->name, "bn1");
  EXPECT_EQ(conv->attr_ints("pads"), (std::vector<int64_t>{1, 1, 1, 1}));
  // The original weight is left alone (it may be shared).
  EXPECT_EQ(after->find_value("w")->constant.data<float>()[0],
            graph->find_value("w")->constant.data<float>()[0]);
}

TEST(FoldBatchNorm, FoldsIntoConvWithoutBiasAndIntoCanonicalConv) {
  auto after = run_and_compare(*conv_bn(false), fold_batchnorm, 1);
  EXPECT_EQ(after->find_node("conv1")->inputs.size(), 3u);
  after = run_and_compare(*conv_bn(true, "conv"), fold_batchnorm, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"conv", 1}}));
}

TEST(FoldBatchNorm, ConvOutputReadElsewhereIsNotFolded) {
  auto graph = conv_bn(true);
  graph->outputs.push_back(graph->find_value("conv1"));
  auto after = run_and_compare(*graph, fold_batchnorm, 0);
  EXPECT_EQ(op_histogram(*after)["BatchNormalization"], 1);

  graph = conv_bn(true);
  ir::Value* extra = graph->add_value("extra");
  graph->add_node("Relu", "relu", {graph->find_value("conv1")}, {extra});
  graph->outputs.push_back(extra);
  ir::infer_shapes(*graph);
  after = run_and_compare(*graph, fold_batchnorm, 0);
  EXPECT_EQ(op_histogram(*after)["BatchNormalization"], 1);
}

TEST(FoldBatchNorm, NonConstantWeightIsNotFolded) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{1, 2, 4, 4});
  ir::Value* w = b.input("w", Shape{2, 2, 1, 1});
  ir::Value* conv = b.op("Conv", {x, w});
  b.output(
      b.op("BatchNormalization",
           {conv, b.constant("s", random_tensor({2}, 1)), b.constant("t", random_tensor({2}, 2)),
            b.constant("m", random_tensor({2}, 3)), b.constant("v", random_positive({2}, 4))}));
  auto graph = b.finish();
  run_and_compare(*graph, fold_batchnorm, 0);
}

}  // namespace
}  // namespace aimc::passes::test
