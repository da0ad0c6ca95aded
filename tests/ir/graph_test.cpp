#include <gtest/gtest.h>

#include "aimc/ir/graph.h"
#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

TEST(Graph, RemoveDeadKeepsUnreadOutputsOfLiveNodes) {
  Graph g;
  Value* x = g.add_value("x");
  x->dtype_known = true;
  x->shape = SymShape{Dim::symbolic("batch"), Dim::of(4)};
  g.inputs.push_back(x);
  Value* y = g.add_value("y");
  Value* mask = g.add_value("mask");
  g.add_node("Dropout", "drop", {x}, {y, mask});
  Value* z = g.add_value("z");
  g.add_node("Relu", "dead_relu", {x}, {z});  // nobody reads z
  g.outputs.push_back(y);
  g.remove_dead();
  EXPECT_EQ(g.nodes().size(), 1u);
  EXPECT_EQ(g.find_value("z"), nullptr);
  ASSERT_NE(g.find_value("mask"), nullptr);  // still referenced by the live Dropout
  EXPECT_NO_THROW(verify(g));
  EXPECT_NE(print_graph(g).find("%mask"), std::string::npos);
}

TEST(Graph, TopoSortOrdersAndDetectsCycles) {
  Graph g;
  Value* x = g.add_value("x");
  g.inputs.push_back(x);
  Value* a = g.add_value("a");
  Value* b = g.add_value("b");
  g.add_node("Relu", "second", {a}, {b});  // added before its producer
  g.add_node("Relu", "first", {x}, {a});
  g.outputs.push_back(b);
  EXPECT_THROW(verify(g), Error);  // used before defined
  g.topo_sort();
  EXPECT_EQ(g.nodes()[0]->name, "first");
  EXPECT_NO_THROW(verify(g));

  Graph cyclic;
  Value* p = cyclic.add_value("p");
  Value* q = cyclic.add_value("q");
  cyclic.add_node("Relu", "n1", {q}, {p});
  cyclic.add_node("Relu", "n2", {p}, {q});
  cyclic.outputs.push_back(q);
  EXPECT_THROW(cyclic.topo_sort(), Error);
}

TEST(Graph, CloneIsDeepAndEqual) {
  Graph g;
  Value* x = g.add_value("x");
  g.inputs.push_back(x);
  Value* w = g.add_constant("w", Tensor::from_vector<float>({2}, {1.f, 2.f}));
  Value* y = g.add_value("y");
  Node* n = g.add_node("Add", "add", {x, w}, {y});
  n->attrs["note"] = std::string("kept");
  g.outputs.push_back(y);
  auto copy = g.clone();
  EXPECT_EQ(print_graph(*copy), print_graph(g));
  copy->find_node("add")->op = "Sub";
  EXPECT_EQ(g.find_node("add")->op, "Add");
}

TEST(Verify, NamesTheNodeAtFault) {
  Graph g;
  Value* x = g.add_value("x");
  g.inputs.push_back(x);
  Value* y = g.add_value("y");
  g.add_node("NoSuchOp", "mystery", {x}, {y});
  g.outputs.push_back(y);
  try {
    verify(g);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("mystery"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace aimc::ir
