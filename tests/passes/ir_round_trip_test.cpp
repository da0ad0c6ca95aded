// The exact textual IR of every bundled and test model reads back to the same graph: the same
// text, a graph that verifies, and bit-identical outputs from the runtime.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/parser.h"
#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> model_paths() {
  std::vector<std::string> paths;
  for (const char* dir : {"models", "tests/data/models"}) {
    for (const auto& entry : fs::directory_iterator(fs::path(AIMC_SOURCE_DIR) / dir)) {
      if (entry.path().extension() == ".onnx") paths.push_back(entry.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The model's reference input file (models/X.ref-input.npy, tests/data/models/X.input.npy):
// integer inputs (token ids) keep its values, floating point ones get random values of its
// shape.
Tensor input_for(const std::string& model_path, uint64_t seed) {
  fs::path path(model_path);
  fs::path stem = path.parent_path() / path.stem();
  std::string npy = stem.string() + ".ref-input.npy";
  if (!fs::exists(npy)) npy = stem.string() + ".input.npy";
  Tensor reference = read_npy(npy);
  if (reference.dtype() != DType::kF32) return reference;
  return random_tensor(reference.shape(), seed);
}

class IrRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(IrRoundTrip, PrintParsePrintIsTheSameAndRunsBitIdentically) {
  std::unique_ptr<ir::Graph> graph = frontend::load_onnx(GetParam());
  canonicalize(*graph, runtime::evaluate_node);
  std::string text = ir::print_graph(*graph, {.exact = true});
  std::unique_ptr<ir::Graph> parsed = ir::parse_graph(text, GetParam() + ".ir");
  EXPECT_EQ(ir::print_graph(*parsed, {.exact = true}), text);
  EXPECT_EQ(ir::print_graph(*parsed), ir::print_graph(*graph));
  EXPECT_NO_THROW(ir::verify(*parsed));
  ASSERT_EQ(graph->inputs.size(), 1u);
  for (uint64_t seed : {11, 12}) {
    std::map<std::string, Tensor> inputs{{graph->inputs[0]->name, input_for(GetParam(), seed)}};
    auto expected = runtime::Executor(*graph).run(inputs);
    auto actual = runtime::Executor(*parsed).run(inputs);
    ASSERT_EQ(expected.size(), actual.size());
    for (const auto& [name, want] : expected) {
      const Tensor& got = actual.at(name);
      ASSERT_EQ(got.dtype(), want.dtype()) << name;
      ASSERT_EQ(got.shape(), want.shape()) << name;
      EXPECT_EQ(std::memcmp(got.raw(), want.raw(), want.nbytes()), 0) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, IrRoundTrip, ::testing::ValuesIn(model_paths()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

// Values the bundled models do not hold: every dtype, NaN payloads, infinities, subnormals,
// negative zero, names that need quotes, every kind of attribute.
TEST(IrRoundTrip, EveryDtypeAndAwkwardValueSurvives) {
  GraphBuilder b;
  ir::Value* x = b.input("x with space", ir::SymShape{ir::Dim::symbolic("n:"), ir::Dim::of(3)});
  std::vector<ir::Value*> constants;
  constants.push_back(b.constant(
      "f32",
      Tensor::from_vector<float>({6}, {-0.0f, 1e-45f, std::numeric_limits<float>::infinity(),
                                       std::bit_cast<float>(0x7fc00001u), 3.4028235e38f, 0.1f})));
  constants.push_back(
      b.constant("f64", Tensor::from_vector<double>({3}, {0.1, -1e-310, std::nan("")})));
  constants.push_back(b.constant(
      "f16",
      Tensor::from_vector<Float16>({3}, {Float16{0x7e01}, Float16{0x0001}, Float16{0xfbff}})));
  constants.push_back(b.constant(
      "i64", Tensor::from_vector<int64_t>({2}, {std::numeric_limits<int64_t>::min(), 7})));
  constants.push_back(b.constant("u64", Tensor::from_vector<uint64_t>({1}, {~uint64_t{0}})));
  constants.push_back(b.constant("i8", Tensor::from_vector<int8_t>({2}, {-128, 127})));
  constants.push_back(b.constant("u8", Tensor::from_vector<uint8_t>({1}, {255})));
  constants.push_back(b.constant("b", Tensor::from_vector<bool>({2}, {true, false})));
  constants.push_back(b.constant("\"quoted\"\n", Tensor::scalar<int32_t>(-5)));
  std::vector<ir::Value*> operands = {x};
  ir::Value* concat = b.op("Identity", {x},
                           {{"i", int64_t{-3}},
                            {"f", 1.0},
                            {"f_nan", -std::nan("")},
                            {"s", std::string("a\"b\\c\td")},
                            {"ints", std::vector<int64_t>{}},
                            {"floats", std::vector<double>{0.5, 2}},
                            {"strings2", std::vector<std::string>{"", "x, y"}},
                            {"t", Tensor::from_vector<float>({2, 1}, {1.5f, -2})}},
                           "node // with \"odd\" name ");
  b.output(concat);
  for (ir::Value* c : constants) b.output(b.op("Identity", {c}));
  auto graph = b.finish();
  std::string text = ir::print_graph(*graph, {.exact = true});
  auto parsed = ir::parse_graph(text);
  EXPECT_EQ(ir::print_graph(*parsed, {.exact = true}), text);
  for (const auto& value : graph->values()) {
    if (!value->is_constant()) continue;
    const ir::Value* back = parsed->find_value(value->name);
    ASSERT_TRUE(back && back->is_constant()) << value->name;
    ASSERT_EQ(back->constant.dtype(), value->constant.dtype());
    ASSERT_EQ(back->constant.shape(), value->constant.shape());
    EXPECT_EQ(std::memcmp(back->constant.raw(), value->constant.raw(), value->constant.nbytes()), 0)
        << value->name;
  }
  const ir::Node* node = parsed->find_node("node // with \"odd\" name ");
  ASSERT_NE(node, nullptr) << text;
  EXPECT_EQ(node->attrs.size(), 8u);
  for (const auto& [key, value] : graph->find_node(node->name)->attrs) {
    ASSERT_TRUE(node->has_attr(key)) << key;
    EXPECT_EQ(node->attrs.at(key).index(), value.index()) << key;
  }
  EXPECT_EQ(std::bit_cast<uint64_t>(node->attr_float("f_nan", 0)),
            std::bit_cast<uint64_t>(-std::nan("")));
  EXPECT_EQ(node->attr_string("s", ""), "a\"b\\c\td");
  EXPECT_EQ(parsed->inputs[0]->shape, graph->inputs[0]->shape);
}

}  // namespace
}  // namespace aimc::passes::test
