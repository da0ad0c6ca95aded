// Shape functions of the elementwise and reduction ops: symbolic broadcasting, dtype rules,
// reduction shapes with keepdims and constant axes, and errors that name the node.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

const OpRegistry& elementwise_ops() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    return r;
  }();
  return registry;
}

Value* add_input(Graph& graph, const std::string& name, DType dtype, SymShape shape) {
  Value* v = graph.add_value(name);
  v->dtype = dtype;
  v->dtype_known = true;
  v->shape = std::move(shape);
  graph.inputs.push_back(v);
  return v;
}

// Adds a node with one output per entry of `outputs` and runs its shape function.
Node* infer(Graph& graph, const std::string& op, std::vector<Value*> inputs,
            std::map<std::string, AttrValue> attrs = {}, size_t num_outputs = 1) {
  std::vector<Value*> outputs;
  for (size_t i = 0; i < num_outputs; ++i) {
    outputs.push_back(graph.add_value(graph.make_unique_name(op + "_out")));
  }
  Node* node = graph.add_node(op, op + "_node", std::move(inputs), std::move(outputs));
  node->attrs = std::move(attrs);
  const OpSchema* schema = elementwise_ops().find(op);
  EXPECT_NE(schema, nullptr) << op;
  schema->infer(*node);
  return node;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  return "";
}

Dim sym(const std::string& s) {
  return Dim::symbolic(s);
}
Dim of(int64_t v) {
  return Dim::of(v);
}

TEST(ElementwiseShapes, EveryOpHasASchemaWithADescription) {
  const std::vector<std::string> ops = {"Add",          "Sub",         "Mul",
                                        "Div",          "Pow",         "Sqrt",
                                        "Erf",          "Tanh",        "Sigmoid",
                                        "Relu",         "Exp",         "Log",
                                        "Neg",          "Abs",         "Reciprocal",
                                        "Floor",        "Ceil",        "Clip",
                                        "Min",          "Max",         "Sum",
                                        "Mean",         "Equal",       "Less",
                                        "Greater",      "LessOrEqual", "GreaterOrEqual",
                                        "Not",          "And",         "Or",
                                        "Xor",          "Where",       "Cast",
                                        "Identity",     "Dropout",     "LeakyRelu",
                                        "Softplus",     "HardSigmoid", "Elu",
                                        "ReduceMean",   "ReduceMax",   "ReduceMin",
                                        "ReduceSum",    "ReduceProd",  "ReduceSumSquare",
                                        "ReduceL1",     "ReduceL2",    "ReduceLogSumExp",
                                        "ReduceLogSum", "ArgMax",      "ArgMin"};
  for (const std::string& op : ops) {
    const OpSchema* schema = elementwise_ops().find(op);
    ASSERT_NE(schema, nullptr) << op;
    EXPECT_FALSE(schema->description.empty()) << op;
    EXPECT_TRUE(static_cast<bool>(schema->infer)) << op;
    for (const AttrSpec& attr : schema->attrs) EXPECT_FALSE(attr.description.empty()) << op;
  }
  EXPECT_EQ(elementwise_ops().find("Sum")->max_inputs, -1);
  EXPECT_EQ(elementwise_ops().find("Dropout")->max_outputs, 2);
}

TEST(ElementwiseShapes, SymbolicBroadcasting) {
  Graph g;
  Value* a = add_input(g, "a", DType::kF32, {sym("batch"), of(1), of(8)});
  Value* b = add_input(g, "b", DType::kF32, {of(4), of(8)});
  Value* c = add_input(g, "c", DType::kF32, {sym("batch"), sym("seq"), of(1)});
  Value* d = add_input(g, "d", DType::kF32, {sym("n"), of(8)});
  Value* e = add_input(g, "e", DType::kF32, {of(1)});
  Value* unknown = g.add_value("unknown");  // rank unknown
  unknown->dtype_known = true;

  // A known 1 gives way; missing leading dims count as 1.
  Value* ab = infer(g, "Add", {a, b})->outputs[0];
  EXPECT_EQ(*ab->shape, (SymShape{sym("batch"), of(4), of(8)}));
  EXPECT_EQ(ab->dtype, DType::kF32);
  EXPECT_TRUE(ab->dtype_known);
  // Equal symbols match; a known dim (not 1) beats a symbol.
  EXPECT_EQ(*infer(g, "Mul", {a, c})->outputs[0]->shape,
            (SymShape{sym("batch"), sym("seq"), of(8)}));
  EXPECT_EQ(*infer(g, "Sub", {d, b})->outputs[0]->shape, (SymShape{of(4), of(8)}));
  // Two different symbols: unknown.
  EXPECT_EQ(*infer(g, "Div", {c, d})->outputs[0]->shape, (SymShape{sym("batch"), Dim{}, of(8)}));
  EXPECT_EQ(*infer(g, "Add", {e, c})->outputs[0]->shape, *c->shape);
  // Rank unknown anywhere: rank unknown.
  EXPECT_FALSE(infer(g, "Add", {a, unknown})->outputs[0]->shape.has_value());
  // Variadic ops broadcast every input.
  EXPECT_EQ(*infer(g, "Sum", {a, b, c})->outputs[0]->shape, (SymShape{sym("batch"), of(4), of(8)}));
  EXPECT_EQ(*infer(g, "Max", {e})->outputs[0]->shape, (SymShape{of(1)}));
}

TEST(ElementwiseShapes, IncompatibleShapesAndDtypesNameTheNode) {
  Graph g;
  Value* a = add_input(g, "a", DType::kF32, {of(3), of(4)});
  Value* b = add_input(g, "b", DType::kF32, {of(5)});
  Value* l = add_input(g, "l", DType::kI64, {of(4)});
  std::string message = error_of([&] { infer(g, "Add", {a, b}); });
  EXPECT_NE(message.find("Add_node"), std::string::npos) << message;
  EXPECT_NE(message.find("broadcast"), std::string::npos) << message;
  message = error_of([&] { infer(g, "Mul", {a, l}); });
  EXPECT_NE(message.find("different dtypes"), std::string::npos) << message;
  Value* f = add_input(g, "f", DType::kF32, {of(4)});
  EXPECT_NE(error_of([&] { infer(g, "Where", {f, a, a}); }).find("bool"), std::string::npos);
}

TEST(ElementwiseShapes, DtypeRules) {
  Graph g;
  Value* a = add_input(g, "a", DType::kF32, {sym("n"), of(3)});
  Value* b = add_input(g, "b", DType::kF32, {of(3)});
  Value* i = add_input(g, "i", DType::kI32, {of(3)});
  Value* mask = add_input(g, "mask", DType::kBool, {sym("n"), of(1)});
  for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}) {
    Value* out = infer(g, op, {a, b})->outputs[0];
    EXPECT_EQ(out->dtype, DType::kBool) << op;
    EXPECT_EQ(*out->shape, (SymShape{sym("n"), of(3)})) << op;
  }
  EXPECT_EQ(infer(g, "Not", {mask})->outputs[0]->dtype, DType::kBool);
  // Pow keeps the base's dtype even with another exponent dtype.
  EXPECT_EQ(infer(g, "Pow", {i, a})->outputs[0]->dtype, DType::kI32);
  Value* where = infer(g, "Where", {mask, b, a})->outputs[0];
  EXPECT_EQ(where->dtype, DType::kF32);
  EXPECT_EQ(*where->shape, (SymShape{sym("n"), of(3)}));
  Value* cast = infer(g, "Cast", {a}, {{"to", int64_t{7}}})->outputs[0];
  EXPECT_EQ(cast->dtype, DType::kI64);
  EXPECT_EQ(*cast->shape, *a->shape);
  EXPECT_EQ(infer(g, "Cast", {a}, {{"to", int64_t{10}}})->outputs[0]->dtype, DType::kF16);
  EXPECT_EQ(infer(g, "Cast", {a}, {{"to", int64_t{2}}})->outputs[0]->dtype, DType::kU8);
  std::string message = error_of([&] { infer(g, "Cast", {a}, {{"to", int64_t{16}}}); });  // bf16
  EXPECT_NE(message.find("Cast_node"), std::string::npos) << message;
  EXPECT_NE(message.find("unsupported"), std::string::npos) << message;
  Node* dropout = infer(g, "Dropout", {a}, {}, 2);
  EXPECT_EQ(dropout->outputs[0]->dtype, DType::kF32);
  EXPECT_EQ(dropout->outputs[1]->dtype, DType::kBool);
  EXPECT_EQ(*dropout->outputs[1]->shape, *a->shape);
  Value* clip =
      infer(g, "Clip", {a, nullptr, g.add_constant("hi", Tensor::scalar(1.f))})->outputs[0];
  EXPECT_EQ(*clip->shape, *a->shape);
  // Unknown input dtype stays unknown.
  Value* untyped = g.add_value("untyped");
  untyped->shape = SymShape{of(3)};
  EXPECT_FALSE(infer(g, "Relu", {untyped})->outputs[0]->dtype_known);
}

TEST(ElementwiseShapes, ReductionsWithKeepdimsAndAxes) {
  Graph g;
  Value* x = add_input(g, "x", DType::kF32, {sym("batch"), of(4), of(5)});
  auto out_shape = [&](const std::string& op, std::vector<Value*> inputs,
                       std::map<std::string, AttrValue> attrs) {
    return infer(g, op, std::move(inputs), std::move(attrs))->outputs[0]->shape;
  };
  EXPECT_EQ(*out_shape("ReduceMean", {x}, {{"axes", std::vector<int64_t>{-1}}}),
            (SymShape{sym("batch"), of(4), of(1)}));
  EXPECT_EQ(*out_shape("ReduceMax", {x},
                       {{"axes", std::vector<int64_t>{0, 2}}, {"keepdims", int64_t{0}}}),
            (SymShape{of(4)}));
  EXPECT_EQ(*out_shape("ReduceL2", {x}, {}), (SymShape{of(1), of(1), of(1)}));
  EXPECT_EQ(*out_shape("ReduceProd", {x}, {{"keepdims", int64_t{0}}}), SymShape{});
  // ReduceSum: axes from a constant input, or unknown at build time.
  Value* axes = g.add_constant("axes", Tensor::from_vector<int64_t>({1}, {1}));
  EXPECT_EQ(*out_shape("ReduceSum", {x, axes}, {{"keepdims", int64_t{0}}}),
            (SymShape{sym("batch"), of(5)}));
  Value* runtime_axes = add_input(g, "runtime_axes", DType::kI64, {of(1)});
  EXPECT_EQ(*out_shape("ReduceSum", {x, runtime_axes}, {}), (SymShape{Dim{}, Dim{}, Dim{}}));
  EXPECT_FALSE(out_shape("ReduceSum", {x, runtime_axes}, {{"keepdims", int64_t{0}}}));
  Value* no_axes = g.add_constant("no_axes", Tensor(DType::kI64, {0}));
  EXPECT_EQ(*out_shape("ReduceSum", {x, no_axes}, {{"noop_with_empty_axes", int64_t{1}}}),
            *x->shape);
  Node* reduce = infer(g, "ReduceSumSquare", {x});
  EXPECT_EQ(reduce->outputs[0]->dtype, DType::kF32);
  std::string message = error_of([&] {
    infer(g, "ReduceMin", {x}, {{"axes", std::vector<int64_t>{3}}});
  });
  EXPECT_NE(message.find("ReduceMin_node"), std::string::npos) << message;
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
}

TEST(ElementwiseShapes, ArgMaxGivesInt64) {
  Graph g;
  Value* x = add_input(g, "x", DType::kF32, {sym("batch"), of(10)});
  Value* keep = infer(g, "ArgMax", {x}, {{"axis", int64_t{-1}}})->outputs[0];
  EXPECT_EQ(keep->dtype, DType::kI64);
  EXPECT_EQ(*keep->shape, (SymShape{sym("batch"), of(1)}));
  Value* drop = infer(g, "ArgMin", {x}, {{"keepdims", int64_t{0}}})->outputs[0];
  EXPECT_EQ(*drop->shape, (SymShape{of(10)}));
  EXPECT_NE(error_of([&] {
              infer(g, "ArgMax", {x}, {{"axis", int64_t{2}}});
            }).find("range"),
            std::string::npos);
}

}  // namespace
}  // namespace aimc::ir
