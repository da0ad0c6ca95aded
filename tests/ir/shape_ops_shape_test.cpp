// Shape functions of the shape and data-movement ops: symbolic dimensions flow through,
// constant inputs are used, inconsistent inputs are reported.
#include <gtest/gtest.h>

#include "aimc/ir/graph.h"
#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

Dim sym(const std::string& s) {
  return Dim::symbolic(s);
}
Dim num(int64_t v) {
  return Dim::of(v);
}

// A graph with one node whose inputs are given as values (graph inputs or constants).
class OneNode {
 public:
  Value* input(const std::string& name, DType dtype, std::optional<SymShape> shape) {
    Value* v = graph_.add_value(name);
    v->dtype = dtype;
    v->dtype_known = true;
    v->shape = std::move(shape);
    graph_.inputs.push_back(v);
    return v;
  }
  Value* constant(const std::string& name, std::vector<int64_t> values) {
    int64_t n = static_cast<int64_t>(values.size());
    return graph_.add_constant(name, Tensor::from_vector<int64_t>({n}, values));
  }
  Value* constant(const std::string& name, Tensor tensor) {
    return graph_.add_constant(name, std::move(tensor));
  }
  // Adds the node, runs shape inference, returns the node.
  Node& run(const std::string& op, std::vector<Value*> inputs,
            std::map<std::string, AttrValue> attrs = {}, size_t outputs = 1) {
    std::vector<Value*> outs;
    for (size_t i = 0; i < outputs; ++i)
      outs.push_back(graph_.add_value("out" + std::to_string(i)));
    Node* node = graph_.add_node(op, "n", std::move(inputs), outs);
    node->attrs = std::move(attrs);
    for (Value* out : outs) graph_.outputs.push_back(out);
    verify(graph_);
    infer_shapes(graph_);
    return *node;
  }

 private:
  Graph graph_;
};

std::string shape_of(const Node& node, size_t output = 0) {
  const Value* v = node.outputs.at(output);
  return v->shape ? sym_shape_str(*v->shape) : "none";
}

// Expects a bad-input error naming the node and containing `needle`.
template <typename Fn>
void expect_bad_input(Fn&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown, expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    EXPECT_NE(std::string(e.what()).find("'n'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ShapeOpsSchema, EveryOpIsRegisteredWithDescriptions) {
  for (const char* op :
       {"Reshape",        "Transpose", "Flatten", "Concat", "Split", "Slice",    "Gather",
        "GatherElements", "Unsqueeze", "Squeeze", "Shape",  "Size",  "Constant", "ConstantOfShape",
        "Expand",         "Range",     "Tile",    "Pad",    "Trilu", "CumSum"}) {
    const OpSchema* schema = OpRegistry::instance().find(op);
    ASSERT_NE(schema, nullptr) << op;
    EXPECT_FALSE(schema->description.empty()) << op;
    EXPECT_TRUE(static_cast<bool>(schema->infer)) << op;
    for (const AttrSpec& attr : schema->attrs) EXPECT_FALSE(attr.description.empty()) << op;
  }
}

// ---- Reshape ----

TEST(ReshapeShape, ZeroCopiesSymbolicDims) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), sym("seq"), num(768)});
  Node& n = g.run("Reshape", {x, g.constant("s", {0, 0, 12, 64})});
  EXPECT_EQ(shape_of(n), "[batch, seq, 12, 64]");
  EXPECT_EQ(n.outputs[0]->dtype, DType::kF32);
  EXPECT_TRUE(n.outputs[0]->dtype_known);
}

TEST(ReshapeShape, MinusOneKeepsTheOneSymbolThatMapsThrough) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(12), num(64)});
  EXPECT_EQ(shape_of(g.run("Reshape", {x, g.constant("s", {-1, 768})})), "[batch, 768]");
}

TEST(ReshapeShape, MinusOneWithCancellingSymbols) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), sym("seq"), num(12), num(64)});
  // batch is copied by the 0, so -1 stands for seq * 12 * 64 / 768 = seq.
  EXPECT_EQ(shape_of(g.run("Reshape", {x, g.constant("s", {0, -1, 768})})), "[batch, seq, 768]");
}

TEST(ReshapeShape, MinusOneUnknownWhenSymbolIsScaled) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(12), num(64)});
  EXPECT_EQ(shape_of(g.run("Reshape", {x, g.constant("s", {-1, 64})})), "[?, 64]");
}

TEST(ReshapeShape, KnownShapesAndErrors) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kI8, SymShape{num(2), num(3), num(4)});
    Node& n = g.run("Reshape", {x, g.constant("s", {4, -1})});
    EXPECT_EQ(shape_of(n), "[4, 6]");
    EXPECT_EQ(n.outputs[0]->dtype, DType::kI8);
  }
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{num(2), num(3)});
    Value* s = g.constant("s", {5, 5});
    expect_bad_input([&] { g.run("Reshape", {x, s}); }, "cannot reshape");
  }
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{num(2), num(3)});
    Value* s = g.constant("s", {4, -1});
    expect_bad_input([&] { g.run("Reshape", {x, s}); }, "cannot reshape");
  }
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{num(2), num(3)});
    Value* s = g.constant("s", {-1, -1});
    expect_bad_input([&] { g.run("Reshape", {x, s}); }, "more than one -1");
  }
}

TEST(ReshapeShape, ComputedShapeGivesRankOnly) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(6)});
  Value* s = g.input("s", DType::kI64, SymShape{num(3)});
  EXPECT_EQ(shape_of(g.run("Reshape", {x, s})), "[?, ?, ?]");
}

TEST(ReshapeShape, AllowZeroKeepsZero) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(0), num(3)});
  EXPECT_EQ(shape_of(g.run("Reshape", {x, g.constant("s", {3, 0})}, {{"allowzero", int64_t{1}}})),
            "[3, 0]");
}

// ---- Transpose, Flatten, Squeeze, Unsqueeze ----

TEST(TransposeShape, PermutesSymbolicDims) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), sym("seq"), num(12), num(64)});
  Node& n = g.run("Transpose", {x}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  EXPECT_EQ(shape_of(n), "[batch, 12, 64, seq]");
}

TEST(TransposeShape, DefaultReversesAndBadPermFails) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(3), num(5)});
    EXPECT_EQ(shape_of(g.run("Transpose", {x})), "[5, 3, batch]");
  }
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(2), num(3)});
  expect_bad_input(
      [&] {
        g.run("Transpose", {x}, {{"perm", std::vector<int64_t>{1, 1}}});
      },
      "repeats");
}

TEST(FlattenShape, SingleSymbolSurvives) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(1), num(1), num(512)});
  EXPECT_EQ(shape_of(g.run("Flatten", {x})), "[batch, 512]");
}

TEST(FlattenShape, ProductWithSymbolIsUnknown) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(3), num(4)});
  EXPECT_EQ(shape_of(g.run("Flatten", {x}, {{"axis", int64_t{-1}}})), "[?, 4]");
}

TEST(SqueezeShape, AxesAndDefault) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(1), num(7)});
    EXPECT_EQ(shape_of(g.run("Squeeze", {x, g.constant("a", {-2})})), "[batch, 7]");
  }
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{num(1), num(3), num(1)});
    EXPECT_EQ(shape_of(g.run("Squeeze", {x})), "[3]");
  }
  {
    // Without axes an unknown dimension might be 1: the rank is unknown.
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(1)});
    EXPECT_EQ(shape_of(g.run("Squeeze", {x})), "none");
  }
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(2), num(3)});
  Value* axes = g.constant("a", {0});
  expect_bad_input([&] { g.run("Squeeze", {x, axes}); }, "size 2");
}

TEST(UnsqueezeShape, InsertsOnes) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(7)});
  EXPECT_EQ(shape_of(g.run("Unsqueeze", {x, g.constant("a", {1, -1})})), "[batch, 1, 7, 1]");
}

// ---- Concat, Split, Slice ----

TEST(ConcatShape, OtherAxesKeepSymbols) {
  OneNode g;
  Value* a = g.input("a", DType::kF32, SymShape{sym("batch"), num(3), num(4)});
  Value* b = g.input("b", DType::kF32, SymShape{Dim{}, num(5), num(4)});
  EXPECT_EQ(shape_of(g.run("Concat", {a, b}, {{"axis", int64_t{1}}})), "[batch, 8, 4]");
}

TEST(ConcatShape, SymbolicConcatAxisIsUnknownAndMismatchFails) {
  {
    OneNode g;
    Value* a = g.input("a", DType::kF32, SymShape{sym("seq"), num(4)});
    Value* b = g.input("b", DType::kF32, SymShape{num(1), num(4)});
    EXPECT_EQ(shape_of(g.run("Concat", {a, b}, {{"axis", int64_t{0}}})), "[?, 4]");
  }
  OneNode g;
  Value* a = g.input("a", DType::kF32, SymShape{num(2), num(4)});
  Value* b = g.input("b", DType::kF32, SymShape{num(2), num(5)});
  expect_bad_input([&] { g.run("Concat", {a, b}, {{"axis", int64_t{0}}}); }, "disagree");
}

TEST(SplitShape, EqualAndGivenParts) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(2304)});
    Node& n = g.run("Split", {x}, {{"axis", int64_t{-1}}}, 3);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(shape_of(n, i), "[batch, 768]");
  }
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{num(6), sym("seq")});
    Node& n = g.run("Split", {x, g.constant("s", {2, 4})}, {}, 2);
    EXPECT_EQ(shape_of(n, 0), "[2, seq]");
    EXPECT_EQ(shape_of(n, 1), "[4, seq]");
  }
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(6)});
  Value* s = g.constant("s", {2, 2});
  expect_bad_input([&] { g.run("Split", {x, s}, {}, 2); }, "add up");
}

TEST(SliceShape, ConstantBoundsAndSymbols) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(10), num(8)});
  // axis 1: [2, 9) -> 7; axis -1: 7, 5, 3, 1 (step -2) -> 4
  Node& n = g.run("Slice", {x, g.constant("st", {2, -1}), g.constant("en", {-1, -100}),
                            g.constant("ax", {1, -1}), g.constant("sp", {1, -2})});
  EXPECT_EQ(shape_of(n), "[batch, 7, 4]");
}

TEST(SliceShape, WholeSymbolicAxisKeepsSymbolOtherwiseUnknown) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), sym("seq"), num(8)});
  Node& n = g.run("Slice", {x, g.constant("st", {0, 1}),
                            g.constant("en", {std::numeric_limits<int64_t>::max(), 5}),
                            g.constant("ax", {0, 1})});
  EXPECT_EQ(shape_of(n), "[batch, ?, 8]");
}

TEST(SliceShape, ComputedBoundsKeepOtherAxes) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(10)});
  Value* starts = g.input("st", DType::kI64, SymShape{num(1)});
  Node& n = g.run("Slice", {x, starts, g.constant("en", {5}), g.constant("ax", {1})});
  EXPECT_EQ(shape_of(n), "[batch, ?]");
}

// ---- Gather, GatherElements ----

TEST(GatherShape, IndicesReplaceTheAxis) {
  OneNode g;
  Value* table = g.input("table", DType::kF32, SymShape{num(1000), num(64)});
  Value* ids = g.input("ids", DType::kI64, SymShape{sym("batch"), sym("seq")});
  EXPECT_EQ(shape_of(g.run("Gather", {table, ids})), "[batch, seq, 64]");
}

TEST(GatherShape, ScalarIndexDropsAxis) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(197), num(768)});
  Value* index = g.constant("i", Tensor::scalar<int64_t>(0));
  EXPECT_EQ(shape_of(g.run("Gather", {x, index}, {{"axis", int64_t{1}}})), "[batch, 768]");
}

TEST(GatherElementsShape, ShapeOfIndices) {
  OneNode g;
  Value* x = g.input("x", DType::kI32, SymShape{num(3), num(3)});
  Value* i = g.input("i", DType::kI64, SymShape{num(2), num(3)});
  Node& n = g.run("GatherElements", {x, i});
  EXPECT_EQ(shape_of(n), "[2, 3]");
  EXPECT_EQ(n.outputs[0]->dtype, DType::kI32);
}

// ---- Shape, Size, Constant, ConstantOfShape, Range ----

TEST(ShapeShape, RankAndStartEnd) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(3), num(4)});
    Node& n = g.run("Shape", {x});
    EXPECT_EQ(shape_of(n), "[3]");
    EXPECT_EQ(n.outputs[0]->dtype, DType::kI64);
  }
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(3), num(4)});
    EXPECT_EQ(shape_of(g.run("Shape", {x}, {{"start", int64_t{-2}}})), "[2]");
  }
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(2)});
  Node& n = g.run("Size", {x});
  EXPECT_EQ(shape_of(n), "[]");
  EXPECT_EQ(n.outputs[0]->dtype, DType::kI64);
}

TEST(ConstantShape, AttributeForms) {
  {
    OneNode g;
    Node& n = g.run("Constant", {}, {{"value", Tensor(DType::kI32, {2, 5})}});
    EXPECT_EQ(shape_of(n), "[2, 5]");
    EXPECT_EQ(n.outputs[0]->dtype, DType::kI32);
  }
  {
    OneNode g;
    Node& n = g.run("Constant", {}, {{"value_floats", std::vector<double>{1, 2, 3}}});
    EXPECT_EQ(shape_of(n), "[3]");
    EXPECT_EQ(n.outputs[0]->dtype, DType::kF32);
  }
  OneNode g;
  Node& n = g.run("Constant", {}, {{"value_int", int64_t{3}}});
  EXPECT_EQ(shape_of(n), "[]");
  EXPECT_EQ(n.outputs[0]->dtype, DType::kI64);
}

TEST(ConstantOfShapeShape, ValueDtypeAndConstantShape) {
  {
    OneNode g;
    Node& n = g.run("ConstantOfShape", {g.constant("s", {2, 3})},
                    {{"value", Tensor::from_vector<int64_t>({1}, {1})}});
    EXPECT_EQ(shape_of(n), "[2, 3]");
    EXPECT_EQ(n.outputs[0]->dtype, DType::kI64);
  }
  OneNode g;
  Value* s = g.input("s", DType::kI64, SymShape{num(4)});
  Node& n = g.run("ConstantOfShape", {s});
  EXPECT_EQ(shape_of(n), "[?, ?, ?, ?]");
  EXPECT_EQ(n.outputs[0]->dtype, DType::kF32);
}

TEST(RangeShape, ConstantLength) {
  {
    OneNode g;
    Node& n = g.run("Range", {g.constant("a", Tensor::scalar<int64_t>(10)),
                              g.constant("b", Tensor::scalar<int64_t>(0)),
                              g.constant("c", Tensor::scalar<int64_t>(-3))});
    EXPECT_EQ(shape_of(n), "[4]");
    EXPECT_EQ(n.outputs[0]->dtype, DType::kI64);
  }
  OneNode g;
  Value* limit = g.input("limit", DType::kI64, SymShape{});
  Node& n = g.run("Range", {g.constant("a", Tensor::scalar<int64_t>(0)), limit,
                            g.constant("c", Tensor::scalar<int64_t>(1))});
  EXPECT_EQ(shape_of(n), "[?]");
}

// ---- Expand, Tile, Pad, Trilu, CumSum ----

TEST(ExpandShape, BroadcastsBothWays) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(1), num(4)});
  EXPECT_EQ(shape_of(g.run("Expand", {x, g.constant("s", {2, 1, 3, 1})})), "[2, batch, 3, 4]");
}

TEST(ExpandShape, IncompatibleFails) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(3)});
  Value* s = g.constant("s", {2, 4});
  expect_bad_input([&] { g.run("Expand", {x, s}); }, "broadcast");
}

TEST(TileShape, MultipliesDims) {
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), sym("seq"), num(4)});
  EXPECT_EQ(shape_of(g.run("Tile", {x, g.constant("r", {1, 2, 3})})), "[batch, ?, 12]");
}

TEST(PadShape, AddsPadsAndChecksMode) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("batch"), num(3), num(8), num(8)});
    EXPECT_EQ(shape_of(g.run("Pad", {x, g.constant("p", {0, 0, 1, 2, 0, 0, 1, -3})})),
              "[batch, 3, 10, 7]");
  }
  OneNode g;
  Value* x = g.input("x", DType::kF32, SymShape{num(3)});
  Value* p = g.constant("p", {1, 1});
  expect_bad_input([&] { g.run("Pad", {x, p}, {{"mode", std::string("wrap")}}); }, "wrap");
}

TEST(TriluAndCumSumShape, SameAsInput) {
  {
    OneNode g;
    Value* x = g.input("x", DType::kF32, SymShape{sym("seq"), sym("seq")});
    EXPECT_EQ(shape_of(g.run("Trilu", {x})), "[seq, seq]");
  }
  OneNode g;
  Value* x = g.input("x", DType::kI64, SymShape{sym("batch"), num(5)});
  Node& n = g.run("CumSum", {x, g.constant("a", Tensor::scalar<int64_t>(1))});
  EXPECT_EQ(shape_of(n), "[batch, 5]");
  EXPECT_EQ(n.outputs[0]->dtype, DType::kI64);
}

}  // namespace
}  // namespace aimc::ir
