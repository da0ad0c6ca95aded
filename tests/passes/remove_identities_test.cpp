#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

TEST(RemoveIdentities, IdentityAndDropoutInTheMiddleAreRemoved) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 3});
  ir::Value* a = b.op("Relu", {x});
  ir::Value* same = b.op("Identity", {a});
  ir::Value* dropped = b.op("Dropout", {same}, {}, "drop", 2);  // mask output unused
  b.output(b.op("Neg", {dropped}, {}, "y"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, remove_identities, 2);
  eliminate_dead_code(*after);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Neg", 1}, {"Relu", 1}}));
  EXPECT_EQ(after->find_node("y")->input(0)->producer->op, "Relu");
}

TEST(RemoveIdentities, GraphOutputKeepsItsNameWhenTheProducerIsMoved) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{4});
  ir::Value* a = b.op("Relu", {x}, {}, "relu");
  b.output(b.op("Identity", {a}, {}, "out"));
  b.output(b.op("Neg", {a}, {}, "other"));  // another reader of the Identity's input
  auto graph = b.finish();

  auto after = run_and_compare(*graph, remove_identities, 1);
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{{"Neg", 1}, {"Relu", 1}}));
  EXPECT_EQ(after->outputs[0]->name, "out");
  EXPECT_EQ(after->outputs[0]->producer, after->find_node("relu"));
  EXPECT_EQ(after->find_node("other")->input(0), after->outputs[0]);
}

TEST(RemoveIdentities, KeptWhenRemovingWouldRenameAGraphOutput) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{4});
  b.output(b.op("Identity", {x}, {}, "copy_of_input"));
  ir::Value* a = b.op("Relu", {x}, {}, "relu");
  b.output(a);
  b.output(b.op("Identity", {a}, {}, "copy_of_output"));
  b.output(b.op("Identity", {b.constant("k", scalar(3.0f))}, {}, "copy_of_constant"));
  auto graph = b.finish();

  auto after = run_and_compare(*graph, remove_identities, 0);
  EXPECT_EQ(op_histogram(*after), op_histogram(*graph));
}

TEST(RemoveIdentities, DropoutWithReadMaskOrTrainingModeStays) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{4});
  ir::Value* kept = b.op("Dropout", {x}, {}, "mask_read", 2);
  b.output(b.op("Neg", {kept}));
  b.output(b.graph().find_value("mask_read:1"));
  ir::Value* trained = b.op("Dropout", {x, b.constant("ratio", scalar(0.5f)),
                                        b.constant("training", Tensor::scalar<bool>(true))});
  b.output(b.op("Neg", {trained}));
  ir::Value* inference = b.op("Dropout", {x, b.constant("ratio0", scalar(0.5f)),
                                          b.constant("not_training", Tensor::scalar<bool>(false))});
  b.output(b.op("Neg", {inference}));
  auto graph = b.graph().clone();  // the training-mode Dropout does not run: check the IR only
  int rewrites = remove_identities(*graph);
  EXPECT_EQ(rewrites, 1);
  EXPECT_NO_THROW(ir::verify(*graph));
  EXPECT_EQ(op_histogram(*graph)["Dropout"], 2);
  EXPECT_NE(graph->find_node("mask_read"), nullptr);
}

}  // namespace
}  // namespace aimc::passes::test
