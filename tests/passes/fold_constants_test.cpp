#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

Tensor i64(Shape shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(std::move(shape), values);
}

TEST(FoldConstants, ShapeGatherConcatReshapeChainCollapses) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 3, 4});
  ir::Value* shape = b.op("Shape", {x});
  ir::Value* batch = b.op("Gather", {shape, b.constant("zero", Tensor::scalar<int64_t>(0))});
  ir::Value* batch_1d = b.op("Unsqueeze", {batch, b.constant("axes", i64({1}, {0}))});
  ir::Value* target =
      b.op("Concat", {batch_1d, b.constant("minus_one", i64({1}, {-1}))}, {{"axis", int64_t{0}}});
  b.output(b.op("Reshape", {x, target}, {}, "reshape"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, fold, 4);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Reshape", 1}}));
  const ir::Value* folded_shape = after->find_node("reshape")->input(1);
  ASSERT_TRUE(folded_shape->is_constant());
  EXPECT_EQ(folded_shape->constant.to_int_vector(), (std::vector<int64_t>{2, -1}));
}

TEST(FoldConstants, GraphOutputThatBecomesConstantKeepsItsName) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{3});
  ir::Value* c = b.op("Constant", {}, {{"value", Tensor::from_vector<float>({3}, {1, 2, 3})}});
  b.output(b.op("Add", {c, b.constant(10.0f)}, {}, "sum"));
  b.output(b.op("Relu", {x}, {}, "relu"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, fold, 2);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Relu", 1}}));
  ASSERT_EQ(after->outputs[0]->name, "sum");
  ASSERT_TRUE(after->outputs[0]->is_constant());
  auto values = after->outputs[0]->constant.values<float>();
  EXPECT_EQ(std::vector<float>(values.begin(), values.end()), (std::vector<float>{11, 12, 13}));
}

TEST(FoldConstants, ShapeWithStartEndAndSizeFoldOnStaticShapes) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 3, 4, 5});
  b.output(b.op("Shape", {x}, {{"start", int64_t{1}}, {"end", int64_t{-1}}}, "middle"));
  b.output(b.op("Shape", {x}, {{"start", int64_t{-10}}, {"end", int64_t{99}}}, "clamped"));
  b.output(b.op("Size", {x}, {}, "size"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, fold, 3);
  EXPECT_TRUE(after->nodes().empty());
  EXPECT_EQ(after->find_value("middle")->constant.to_int_vector(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(after->find_value("clamped")->constant.to_int_vector(),
            (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(after->find_value("size")->constant.rank(), 0);
  EXPECT_EQ(after->find_value("size")->constant.item_as_int(0), 120);
}

TEST(FoldConstants, ShapeOfSymbolicInputStays) {
  GraphBuilder b;
  ir::Value* x = b.input("x", ir::SymShape{ir::Dim::symbolic("batch"), ir::Dim::of(3)});
  ir::Value* shape = b.op("Shape", {x});
  b.output(b.op("Gather", {shape, b.constant("one", Tensor::scalar<int64_t>(1))}, {}, "dim"));
  b.output(b.op("Size", {x}, {}, "size"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, fold, 0, {{"batch", 5}});
  EXPECT_EQ(op_histogram(*after), op_histogram(*graph));
}

TEST(FoldConstants, ShapeOfStaticTrailingDimsFoldsUnderSymbolicBatch) {
  GraphBuilder b;
  ir::Value* x =
      b.input("x", ir::SymShape{ir::Dim::symbolic("batch"), ir::Dim::of(3), ir::Dim::of(4)});
  b.output(b.op("Shape", {x}, {{"start", int64_t{1}}}, "trailing"));
  b.output(b.op("Shape", {x}, {{"end", int64_t{2}}}, "leading"));
  auto graph = b.finish();
  auto after = run_and_compare(*graph, fold, 1, {{"batch", 2}});
  EXPECT_EQ(after->find_value("trailing")->constant.to_int_vector(), (std::vector<int64_t>{3, 4}));
  EXPECT_FALSE(after->find_value("leading")->is_constant());
}

TEST(FoldConstants, HugeOutputsFromTinyInputsAreNotFolded) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{4, 4});
  ir::Value* big = b.op("ConstantOfShape", {b.constant("big_shape", i64({2}, {2048, 1024}))});
  ir::Value* small = b.op("ConstantOfShape", {b.constant("small_shape", i64({2}, {4, 4}))});
  b.output(b.op("ReduceSum", {big}, {{"keepdims", int64_t{0}}}, "big_sum"));
  b.output(b.op("Add", {x, small}, {}, "sum"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, fold, 1);
  EXPECT_EQ(op_histogram(*after),
            (std::map<std::string, int>{{"Add", 1}, {"ConstantOfShape", 1}, {"ReduceSum", 1}}));
}

// The Expand's shape comes from a Shape folded in the same pass, so shape inference could not
// know its size beforehand: the pass infers it again before evaluating (a bound batch of
// millions used to be materialised here: `aimc inspect --dim batch=3000000` took 765 MB).
TEST(FoldConstants, GrowthIsCheckedWhenTheShapeBecomesKnownInThePass) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2048, 1024});
  ir::Value* shape = b.op("Shape", {x});
  ir::Value* expanded = b.op("Expand", {b.constant("one", Tensor::scalar<float>(1.0f)), shape});
  b.output(b.op("Add", {x, expanded}, {}, "sum"));
  auto graph = b.finish();
  EXPECT_FALSE(graph->find_node("sum")->input(1)->shape.has_value() &&
               ir::sym_shape_known(*graph->find_node("sum")->input(1)->shape))
      << "the case needs an Expand whose size is unknown before the pass";

  auto after = run_and_compare(*graph, fold, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Add", 1}, {"Expand", 1}}));
  // ... and it is refused before it is evaluated (not computed and then thrown away).
  int expands_evaluated = 0;
  fold_constants(*graph, [&](const ir::Node& node, const std::vector<Tensor>& inputs) {
    expands_evaluated += node.op == "Expand";
    return runtime::evaluate_node(node, inputs);
  });
  EXPECT_EQ(expands_evaluated, 0);
}

TEST(FoldConstants, FailingEvaluationLeavesTheNodeForRunTime) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2});
  b.output(b.op("Add", {x, b.op("Neg", {b.constant(1.0f)})}, {}, "sum"));
  auto graph = b.finish();
  auto after = graph->clone();
  auto refuse = [](const ir::Node& node, const std::vector<Tensor>&) -> std::vector<Tensor> {
    throw_bad_input("{}: refused", node.describe());
  };
  EXPECT_EQ(fold_constants(*after, refuse), 0);
  EXPECT_EQ(op_histogram(*after), op_histogram(*graph));
  // Internal errors are not swallowed.
  auto broken = [](const ir::Node&, const std::vector<Tensor>&) -> std::vector<Tensor> {
    throw_runtime("bug");
  };
  EXPECT_THROW(fold_constants(*after, broken), Error);
}

TEST(FoldConstants, ChainsOfConstantsFoldInOnePass) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 3});
  ir::Value* w = b.constant("w", random_tensor({3, 2}, 7));
  ir::Value* wt = b.op("Transpose", {w}, {{"perm", std::vector<int64_t>{1, 0}}});
  ir::Value* scaled = b.op("Mul", {wt, b.constant(2.0f)});
  b.output(b.op("MatMul", {x, b.op("Transpose", {scaled}, {{"perm", std::vector<int64_t>{1, 0}}})},
                {}, "y"));
  auto graph = b.finish();
  auto after = run_and_compare(*graph, fold, 3);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"MatMul", 1}}));
}

}  // namespace
}  // namespace aimc::passes::test
