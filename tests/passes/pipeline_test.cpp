#include <filesystem>

#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"
#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

void canonicalize_with_kernels(ir::Graph& graph) {
  canonicalize(graph, runtime::evaluate_node);
}

// x[batch, 4, 8] -> LayerNorm (decomposed) -> fc1 + GELU (erf) -> fc2 -> Dropout -> + x -> y.
std::unique_ptr<ir::Graph> mlp_block() {
  GraphBuilder b;
  ir::Value* x =
      b.input("x", ir::SymShape{ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(8)});
  std::map<std::string, ir::AttrValue> last_axis = {{"axes", std::vector<int64_t>{-1}}};
  ir::Value* d = b.op("Sub", {x, b.op("ReduceMean", {x}, last_axis)});
  ir::Value* v = b.op("ReduceMean", {b.op("Pow", {d, b.constant(2.0f)})}, last_axis);
  ir::Value* n = b.op("Div", {d, b.op("Sqrt", {b.op("Add", {v, b.constant(1e-5f)})})});
  ir::Value* ln = b.op("Add", {b.op("Mul", {n, b.constant("gamma", random_tensor({8}, 1))}),
                               b.constant("beta", random_tensor({8}, 2))});
  ir::Value* h =
      b.op("Add", {b.op("MatMul", {ln, b.constant("w1", random_tensor({8, 16}, 3))}, {}, "fc1"),
                   b.constant("b1", random_tensor({16}, 4))});
  ir::Value* erf = b.op("Erf", {b.op("Div", {h, b.constant(1.4142135f)})});
  ir::Value* g =
      b.op("Mul", {b.op("Mul", {h, b.op("Add", {erf, b.constant(1.0f)})}), b.constant(0.5f)});
  // The second weight arrives transposed, as a Transpose of a constant that folding removes.
  ir::Value* w2 = b.op("Transpose", {b.constant("w2t", random_tensor({8, 16}, 5))},
                       {{"perm", std::vector<int64_t>{1, 0}}});
  ir::Value* o =
      b.op("Add", {b.op("MatMul", {g, w2}, {}, "fc2"), b.constant("b2", random_tensor({8}, 6))});
  ir::Value* dropped = b.op("Dropout", {o});
  b.output(b.op("Identity", {b.op("Add", {dropped, x})}, {}, "y"));
  return b.finish();
}

TEST(Canonicalize, MlpBlockBecomesCanonicalOps) {
  auto graph = mlp_block();
  auto after = run_and_compare(*graph,
                               [](ir::Graph& g) {
                                 canonicalize_with_kernels(g);
                                 return 0;
                               },
                               0, {{"batch", 3}});
  EXPECT_EQ(op_histogram(*after), (std::map<std::string, int>{
                                      {"Add", 1}, {"gelu", 1}, {"layer_norm", 1}, {"linear", 2}}));
  EXPECT_EQ(after->outputs[0]->name, "y");
  EXPECT_EQ(after->find_node("fc1")->op, "linear");
  EXPECT_EQ(after->find_node("fc2")->op, "linear");
  EXPECT_EQ(after->find_node("fc2")->input(1)->constant.shape(), (Shape{16, 8}));
  // Shapes are inferred again at the end.
  EXPECT_EQ(ir::sym_shape_str(*after->outputs[0]->shape), "[batch, 4, 8]");
  // A second run finds nothing left to do.
  std::string once = ir::print_graph(*after);
  canonicalize_with_kernels(*after);
  EXPECT_EQ(ir::print_graph(*after), once);
}

// x[1, 3, 8, 8] -> Conv(SAME_UPPER) -> BN -> Relu -> flatten via Shape/Gather/Concat/Reshape ->
// Gemm.
TEST(Canonicalize, ConvNetBecomesCanonicalOps) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{1, 3, 8, 8});
  ir::Value* conv = b.op(
      "Conv", {x, b.constant("w", random_tensor({4, 3, 3, 3}, 1))},
      {{"auto_pad", std::string("SAME_UPPER")}, {"strides", std::vector<int64_t>{2, 2}}}, "conv1");
  ir::Value* bn =
      b.op("BatchNormalization",
           {conv, b.constant("s", random_tensor({4}, 2)), b.constant("t", random_tensor({4}, 3)),
            b.constant("m", random_tensor({4}, 4)), b.constant("v", random_positive({4}, 5))});
  ir::Value* r = b.op("Relu", {bn});
  ir::Value* batch =
      b.op("Gather", {b.op("Shape", {r}), b.constant("zero", Tensor::scalar<int64_t>(0))});
  ir::Value* target =
      b.op("Concat",
           {b.op("Unsqueeze", {batch, b.constant("axes", Tensor::from_vector<int64_t>({1}, {0}))}),
            b.constant("rest", Tensor::from_vector<int64_t>({1}, {-1}))},
           {{"axis", int64_t{0}}});
  ir::Value* flat = b.op("Reshape", {r, target});
  b.output(b.op("Gemm",
                {flat, b.constant("fc_w", random_tensor({10, 64}, 6)),
                 b.constant("fc_b", random_tensor({10}, 7))},
                {{"transB", int64_t{1}}}, "fc"));
  auto graph = b.finish();
  auto after = run_and_compare(
      *graph,
      [](ir::Graph& g) {
        canonicalize_with_kernels(g);
        return 0;
      },
      0);
  EXPECT_EQ(op_histogram(*after),
            (std::map<std::string, int>{{"Relu", 1}, {"Reshape", 1}, {"conv", 1}, {"linear", 1}}));
  EXPECT_EQ(after->find_node("conv1")->attr_ints("pads"), (std::vector<int64_t>{0, 0, 1, 1}));
}

TEST(Canonicalize, PipelineListsEveryPass) {
  std::vector<std::string> names;
  for (const PassInfo& pass : pipeline()) {
    EXPECT_FALSE(pass.description.empty()) << pass.name;
    names.push_back(pass.name);
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"remove-identities", "fold-constants", "fold-batchnorm",
                                      "canonicalize-conv", "fuse-layer-norm", "fuse-gelu",
                                      "canonicalize-matmul", "eliminate-dead-code"}));
}

TEST(Canonicalize, DeadCodeKeepsUnreadOutputsOfLiveNodes) {
  GraphBuilder b;
  ir::Value* x = b.input("x", Shape{2, 6});
  ir::Value* first =
      b.op("Split", {x, b.constant("sizes", Tensor::from_vector<int64_t>({2}, {2, 4}))},
           {{"axis", int64_t{1}}}, "split", 2);
  b.op("Neg", {x}, {}, "dead");
  b.output(b.op("Relu", {first}, {}, "y"));
  auto graph = b.finish();
  // Removed: the node "dead" and its output value. Split's unread second part stays.
  auto after = run_and_compare(*graph, eliminate_dead_code, 2);
  EXPECT_EQ(after->find_node("dead"), nullptr);
  ASSERT_NE(after->find_value("split:1"), nullptr);
  EXPECT_EQ(after->find_node("split")->output(1), after->find_value("split:1"));
}

// The PyTorch-exported models of tests/data/models: the canonical graph computes the
// reference outputs, and the patterns PyTorch emits are all rewritten (opset 13 exports
// decompose LayerNorm; opset 17 exports use LayerNormalization: both end up the same).
struct ModelCase {
  std::string name;
  std::map<std::string, int> canonical_ops;  // counts of these ops after canonicalize()
};

void PrintTo(const ModelCase& model_case, std::ostream* os) {
  *os << model_case.name;
}

class CanonicalizeModel : public testing::TestWithParam<ModelCase> {};

TEST_P(CanonicalizeModel, MatchesReferenceOutputs) {
  namespace fs = std::filesystem;
  const ModelCase& model_case = GetParam();
  fs::path dir = fs::path(AIMC_SOURCE_DIR) / "tests" / "data" / "models";
  fs::path model = dir / (model_case.name + ".onnx");
  if (!fs::exists(model)) GTEST_SKIP() << model << " not present";
  auto graph = frontend::load_onnx(model.string());
  auto after = graph->clone();
  canonicalize_with_kernels(*after);
  ASSERT_EQ(graph->inputs.size(), 1u);
  std::map<std::string, Tensor> inputs = {
      {graph->inputs[0]->name, read_npy((dir / (model_case.name + ".input.npy")).string())}};
  expect_same_outputs(*graph, *after, inputs, 1e-5);
  Tensor reference = read_npy((dir / (model_case.name + ".output.npy")).string());
  Tensor got = runtime::Executor(*after).run(inputs).at(after->outputs[0]->name);
  ASSERT_EQ(got.shape(), reference.shape());
  for (int64_t i = 0; i < got.numel(); ++i) {
    double want = reference.item_as_double(i);
    ASSERT_NEAR(got.item_as_double(i), want, 1e-4 * std::max(1.0, std::abs(want))) << i;
  }
  auto histogram = op_histogram(*after);
  for (const auto& [op, count] : model_case.canonical_ops) EXPECT_EQ(histogram[op], count) << op;
  for (const char* gone : {"MatMul", "Gemm", "Conv", "BatchNormalization", "LayerNormalization",
                           "ReduceMean", "Erf", "Pow", "Sqrt", "Identity", "Dropout", "Constant"})
    EXPECT_EQ(histogram.count(gone), 0u) << gone << "\n" << ir::print_graph(*after);
}

const std::map<std::string, int> kTransformerOps = {
    {"layer_norm", 5}, {"gelu", 2}, {"linear", 9}, {"matmul", 4}};

INSTANTIATE_TEST_SUITE_P(Models, CanonicalizeModel,
                         testing::Values(ModelCase{"mlp_tiny_op17", {{"linear", 3}}},
                                         ModelCase{"cnn_tiny_op17", {{"conv", 3}, {"linear", 2}}},
                                         ModelCase{"vit_tiny_op13", kTransformerOps},
                                         ModelCase{"vit_tiny_op17", kTransformerOps},
                                         ModelCase{"gpt_tiny_op13", kTransformerOps},
                                         ModelCase{"gpt_tiny_op17", kTransformerOps}),
                         [](const testing::TestParamInfo<ModelCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace aimc::passes::test
