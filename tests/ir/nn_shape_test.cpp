// Shape functions of the neural-network ops and the conv/pool window geometry.
#include <gtest/gtest.h>

#include "aimc/ir/conv_geometry.h"
#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

Dim d(int64_t v) {
  return Dim::of(v);
}
Dim sym(const char* s) {
  return Dim::symbolic(s);
}

class NnShapeTest : public testing::Test {
 protected:
  Value* input(const SymShape& shape, DType dtype = DType::kF32) {
    Value* v = graph_.add_value(graph_.make_unique_name("in"));
    v->dtype = dtype;
    v->dtype_known = true;
    v->shape = shape;
    graph_.inputs.push_back(v);
    return v;
  }
  Value* unknown_input() {
    Value* v = graph_.add_value(graph_.make_unique_name("in"));
    v->dtype_known = true;
    graph_.inputs.push_back(v);
    return v;
  }
  // Builds `op` over `inputs` with `outputs` outputs and runs its shape function.
  Node* infer(const std::string& op, std::vector<Value*> inputs,
              std::map<std::string, AttrValue> attrs = {}, size_t outputs = 1) {
    std::vector<Value*> outs;
    for (size_t i = 0; i < outputs; ++i)
      outs.push_back(graph_.add_value(graph_.make_unique_name("out")));
    Node* node = graph_.add_node(op, "", std::move(inputs), outs);
    node->attrs = std::move(attrs);
    const OpSchema* schema = OpRegistry::instance().find(op);
    EXPECT_NE(schema, nullptr) << op;
    schema->infer(*node);
    return node;
  }
  static const SymShape& out_shape(const Node* node, size_t i = 0) {
    EXPECT_TRUE(node->outputs[i]->shape.has_value());
    return *node->outputs[i]->shape;
  }
  template <typename F>
  static void expect_bad_input(F&& f) {
    try {
      f();
      ADD_FAILURE() << "expected Error(kBadInput)";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    }
  }

  Graph graph_;
};

TEST_F(NnShapeTest, EveryNnOpIsRegisteredWithADescription) {
  for (const char* op :
       {"MatMul", "matmul", "Gemm", "linear", "Conv", "conv", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "InstanceNormalization",
        "LayerNormalization", "layer_norm", "Softmax", "LogSoftmax", "gelu"}) {
    const OpSchema* schema = OpRegistry::instance().find(op);
    ASSERT_NE(schema, nullptr) << op;
    EXPECT_FALSE(schema->description.empty()) << op;
    EXPECT_TRUE(static_cast<bool>(schema->infer)) << op;
    for (const AttrSpec& spec : schema->attrs) EXPECT_FALSE(spec.description.empty()) << op;
  }
}

TEST_F(NnShapeTest, MatMulKeepsSymbolicBatch) {
  Node* n = infer("MatMul", {input({sym("batch"), d(4), d(8)}), input({d(8), d(16)})});
  EXPECT_EQ(out_shape(n), (SymShape{sym("batch"), d(4), d(16)}));
  EXPECT_EQ(n->outputs[0]->dtype, DType::kF32);
  EXPECT_TRUE(n->outputs[0]->dtype_known);
}

TEST_F(NnShapeTest, MatMulVectorsAndBroadcastBatches) {
  EXPECT_EQ(out_shape(infer("MatMul", {input({d(8)}), input({d(8), d(16)})})), SymShape{d(16)});
  EXPECT_EQ(out_shape(infer("MatMul", {input({d(2), d(3), d(8)}), input({d(8)})})),
            (SymShape{d(2), d(3)}));
  EXPECT_EQ(out_shape(infer("MatMul", {input({d(8)}), input({d(8)})})), SymShape{});
  EXPECT_EQ(
      out_shape(infer("matmul", {input({d(2), d(1), d(4), d(8)}), input({d(3), d(8), d(5)})})),
      (SymShape{d(2), d(3), d(4), d(5)}));
  // Two different symbols may each be 1: the result is unknown.
  EXPECT_EQ(
      out_shape(infer("MatMul", {input({sym("a"), d(4), d(8)}), input({sym("b"), d(8), d(5)})})),
      (SymShape{Dim{}, d(4), d(5)}));
}

TEST_F(NnShapeTest, MatMulRejectsMismatchedInnerDims) {
  expect_bad_input([&] { infer("MatMul", {input({d(4), d(8)}), input({d(7), d(16)})}); });
  expect_bad_input([&] {
    infer("MatMul", {input({d(2), d(4), d(8)}), input({d(3), d(8), d(1)})});
  });
  expect_bad_input([&] {
    infer("MatMul", {input({d(4), d(8)}), input({d(8), d(2)}, DType::kI64)});
  });
}

TEST_F(NnShapeTest, MatMulWithUnknownRankGivesUnknownShape) {
  Node* n = infer("MatMul", {unknown_input(), input({d(8), d(16)})});
  EXPECT_FALSE(n->outputs[0]->shape.has_value());
}

TEST_F(NnShapeTest, GemmTransposes) {
  Node* n = infer("Gemm", {input({d(8), d(4)}), input({d(16), d(8)}), input({d(16)})},
                  {{"transA", int64_t{1}}, {"transB", int64_t{1}}});
  EXPECT_EQ(out_shape(n), (SymShape{d(4), d(16)}));
  expect_bad_input([&] { infer("Gemm", {input({d(8), d(4)}), input({d(16), d(8)})}); });
  expect_bad_input([&] { infer("Gemm", {input({d(2), d(8), d(4)}), input({d(4), d(8)})}); });
}

TEST_F(NnShapeTest, Linear) {
  Node* n = infer("linear",
                  {input({sym("batch"), d(10), d(64)}), input({d(64), d(128)}), input({d(128)})});
  EXPECT_EQ(out_shape(n), (SymShape{sym("batch"), d(10), d(128)}));
  expect_bad_input([&] { infer("linear", {input({d(3), d(64)}), input({d(63), d(128)})}); });
  expect_bad_input([&] {
    infer("linear", {input({d(3), d(64)}), input({d(64), d(128)}), input({d(127)})});
  });
}

TEST_F(NnShapeTest, ConvPadsStridesAndSymbolicBatch) {
  Node* n =
      infer("Conv", {input({sym("batch"), d(3), d(32), d(32)}), input({d(16), d(3), d(3), d(3)})},
            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"strides", std::vector<int64_t>{2, 2}}});
  EXPECT_EQ(out_shape(n), (SymShape{sym("batch"), d(16), d(16), d(16)}));
}

TEST_F(NnShapeTest, ConvAutoPadDilationAndOneD) {
  // SAME_UPPER: ceil(7 / 2) = 4.
  EXPECT_EQ(
      out_shape(infer(
          "Conv", {input({d(1), d(2), d(7), d(7)}), input({d(4), d(2), d(3), d(3)})},
          {{"auto_pad", std::string("SAME_UPPER")}, {"strides", std::vector<int64_t>{2, 2}}})),
      (SymShape{d(1), d(4), d(4), d(4)}));
  // Dilated 3-tap kernel spans 5: 10 - 5 + 1 = 6.
  EXPECT_EQ(out_shape(infer("Conv", {input({d(1), d(2), d(10)}), input({d(4), d(2), d(3)})},
                            {{"dilations", std::vector<int64_t>{2}}})),
            (SymShape{d(1), d(4), d(6)}));
  // VALID ignores pads: (9 - 3) / 3 + 1 = 3.
  EXPECT_EQ(
      out_shape(infer("Conv", {input({d(1), d(2), d(9)}), input({d(4), d(2), d(3)})},
                      {{"auto_pad", std::string("VALID")}, {"strides", std::vector<int64_t>{3}}})),
      (SymShape{d(1), d(4), d(3)}));
}

TEST_F(NnShapeTest, ConvGroupsAndErrors) {
  EXPECT_EQ(
      out_shape(infer("Conv", {input({d(1), d(8), d(5), d(5)}), input({d(8), d(1), d(3), d(3)})},
                      {{"group", int64_t{8}}})),
      (SymShape{d(1), d(8), d(3), d(3)}));
  // 8 input channels, weight expects 4 x group 1.
  expect_bad_input([&] {
    infer("Conv", {input({d(1), d(8), d(5), d(5)}), input({d(8), d(4), d(3), d(3)})});
  });
  // Kernel larger than the input.
  expect_bad_input([&] {
    infer("Conv", {input({d(1), d(2), d(2), d(2)}), input({d(8), d(2), d(3), d(3)})});
  });
  expect_bad_input([&] {
    infer("Conv", {input({d(1), d(2), d(5), d(5)}), input({d(8), d(2), d(3), d(3)})},
          {{"auto_pad", std::string("SAME")}});
  });
  expect_bad_input([&] {
    infer("Conv", {input({d(1), d(2), d(5), d(5)}), input({d(8), d(2), d(3), d(3)})},
          {{"pads", std::vector<int64_t>{1, 1}}});
  });
}

TEST_F(NnShapeTest, ConvUnknownSpatialSizeStaysUnknown) {
  Node* n = infer("Conv",
                  {input({sym("batch"), d(3), sym("h"), d(32)}), input({d(16), d(3), d(3), d(3)})});
  EXPECT_EQ(out_shape(n), (SymShape{sym("batch"), d(16), Dim{}, d(30)}));
}

TEST_F(NnShapeTest, PoolCeilModeAndIndices) {
  // ceil((4 - 3) / 2) + 1 = 2 (floor would give 1).
  Node* n = infer("MaxPool", {input({d(1), d(1), d(4), d(4)})},
                  {{"kernel_shape", std::vector<int64_t>{3, 3}},
                   {"strides", std::vector<int64_t>{2, 2}},
                   {"ceil_mode", int64_t{1}}},
                  2);
  EXPECT_EQ(out_shape(n), (SymShape{d(1), d(1), d(2), d(2)}));
  EXPECT_EQ(out_shape(n, 1), (SymShape{d(1), d(1), d(2), d(2)}));
  EXPECT_EQ(n->outputs[1]->dtype, DType::kI64);
  // As in PyTorch, the last window may not start in the end pad: 5 + 2 pads, k 2, s 2 -> 3.
  EXPECT_EQ(out_shape(infer("AveragePool", {input({d(1), d(1), d(5)})},
                            {{"kernel_shape", std::vector<int64_t>{2}},
                             {"strides", std::vector<int64_t>{2}},
                             {"pads", std::vector<int64_t>{1, 1}},
                             {"ceil_mode", int64_t{1}}})),
            (SymShape{d(1), d(1), d(3)}));
  expect_bad_input([&] { infer("MaxPool", {input({d(1), d(1), d(4), d(4)})}); });
}

TEST_F(NnShapeTest, GlobalPoolKeepsRank) {
  EXPECT_EQ(out_shape(infer("GlobalAveragePool", {input({sym("batch"), d(8), d(7), d(7)})})),
            (SymShape{sym("batch"), d(8), d(1), d(1)}));
  EXPECT_EQ(out_shape(infer("GlobalMaxPool", {input({d(2), d(8), d(7)})})),
            (SymShape{d(2), d(8), d(1)}));
}

TEST_F(NnShapeTest, BatchNormalization) {
  auto params = [&] { return input({d(8)}); };
  Node* n = infer("BatchNormalization", {input({sym("batch"), d(8), d(4), d(4)}), params(),
                                         params(), params(), params()});
  EXPECT_EQ(out_shape(n), (SymShape{sym("batch"), d(8), d(4), d(4)}));
  expect_bad_input([&] {
    infer("BatchNormalization", {input({d(1), d(8), d(4)}), params(), params(), params(), params()},
          {{"training_mode", int64_t{1}}});
  });
  expect_bad_input([&] {
    infer("BatchNormalization",
          {input({d(1), d(7), d(4)}), params(), params(), params(), params()});
  });
  expect_bad_input([&] {
    infer("BatchNormalization", {input({d(1), d(8), d(4)}), params(), params(), params(), params()},
          {}, 3);
  });
}

TEST_F(NnShapeTest, LayerNormalizationStatsOutputs) {
  Node* n = infer("LayerNormalization",
                  {input({sym("batch"), d(4), d(8)}), input({d(4), d(8)}), input({d(8)})},
                  {{"axis", int64_t{1}}}, 3);
  EXPECT_EQ(out_shape(n), (SymShape{sym("batch"), d(4), d(8)}));
  EXPECT_EQ(out_shape(n, 1), (SymShape{sym("batch"), d(1), d(1)}));
  EXPECT_EQ(out_shape(n, 2), (SymShape{sym("batch"), d(1), d(1)}));
  expect_bad_input([&] { infer("layer_norm", {input({d(2), d(8)}), input({d(7)})}); });
  expect_bad_input([&] {
    infer("layer_norm", {input({d(2), d(8)}), input({d(8)})}, {{"axis", int64_t{2}}});
  });
}

TEST_F(NnShapeTest, SoftmaxAndGelu) {
  EXPECT_EQ(out_shape(infer("Softmax", {input({sym("batch"), d(10)})})),
            (SymShape{sym("batch"), d(10)}));
  EXPECT_EQ(out_shape(infer("LogSoftmax", {input({d(2), d(10)})}, {{"axis", int64_t{0}}})),
            (SymShape{d(2), d(10)}));
  expect_bad_input([&] { infer("Softmax", {input({d(2), d(10)})}, {{"axis", int64_t{2}}}); });
  EXPECT_EQ(out_shape(infer("gelu", {input({d(3)})}, {{"approximate", std::string("tanh")}})),
            SymShape{d(3)});
  expect_bad_input([&] { infer("gelu", {input({d(3)})}, {{"approximate", std::string("fast")}}); });
}

// ---- window geometry ----

Node window_node(std::map<std::string, AttrValue> attrs) {
  Node node;
  node.op = "Conv";
  node.name = "c";
  node.attrs = std::move(attrs);
  return node;
}

TEST(ConvGeometryTest, SamePadsPutTheOddPadWhereOnnxSays) {
  // Input 7, even kernel 4, stride 1: output 7, total pad 3.
  Node upper = window_node({{"auto_pad", std::string("SAME_UPPER")}});
  EXPECT_EQ(resolve_conv_pads(upper, {7}, {4}), (std::vector<int64_t>{1, 2}));
  Node lower = window_node({{"auto_pad", std::string("SAME_LOWER")}});
  EXPECT_EQ(resolve_conv_pads(lower, {7}, {4}), (std::vector<int64_t>{2, 1}));
  // Stride 2 on 2-D: out = ceil(5 / 2) = 3, total = 2 * 2 + 3 - 5 = 2.
  Node strided = window_node(
      {{"auto_pad", std::string("SAME_UPPER")}, {"strides", std::vector<int64_t>{2, 1}}});
  WindowGeometry g = resolve_window(strided, {5, 6}, {3, 3});
  EXPECT_EQ(g.pads, (Shape{1, 1, 1, 1}));
  EXPECT_EQ(g.output, (Shape{3, 6}));
}

TEST(ConvGeometryTest, ExplicitAndValidPads) {
  Node explicit_pads = window_node({{"pads", std::vector<int64_t>{0, 1, 2, 0}}});
  EXPECT_EQ(resolve_conv_pads(explicit_pads, {4, 4}, {3, 3}), (std::vector<int64_t>{0, 1, 2, 0}));
  Node valid = window_node({{"auto_pad", std::string("VALID")}});
  EXPECT_EQ(resolve_conv_pads(valid, {4, 4}, {3, 3}), (std::vector<int64_t>{0, 0, 0, 0}));
}

TEST(ConvGeometryTest, UnknownSizesUnderSameCannotBeResolved) {
  Node same = window_node({{"auto_pad", std::string("SAME_LOWER")}});
  WindowGeometry g = resolve_window(same, {-1}, {3});
  EXPECT_EQ(g.output, Shape{-1});
  EXPECT_EQ(g.pads, (Shape{-1, -1}));
  EXPECT_THROW(resolve_conv_pads(same, {-1}, {3}), Error);
}

TEST(ConvGeometryTest, KernelShapeMustMatchWeight) {
  Node node = window_node({{"kernel_shape", std::vector<int64_t>{3, 3}}});
  EXPECT_THROW(resolve_window(node, {8, 8}, {5, 5}), Error);
  EXPECT_EQ(resolve_window(node, {8, 8}, {3, 3}).output, (Shape{6, 6}));
  Node negative = window_node({{"strides", std::vector<int64_t>{0}}});
  EXPECT_THROW(resolve_window(negative, {8}, {3}), Error);
}

}  // namespace
}  // namespace aimc::ir
