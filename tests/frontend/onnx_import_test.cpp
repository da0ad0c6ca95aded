// Import of real PyTorch exports (tests/data/models, made by tools/export_test_models.py) and
// of hand-built ModelProtos for the error paths.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/ir/stats.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"

namespace aimc {
namespace {

const std::string kModels = std::string(AIMC_SOURCE_DIR) + "/tests/data/models/";

// max |a - b| <= 1e-4 * max |b|, the agreement we require with PyTorch.
void expect_close_to_torch(const Tensor& actual, const Tensor& expected) {
  ASSERT_EQ(actual.shape(), expected.shape());
  double max_ref = 0, max_diff = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    max_ref = std::max(max_ref, std::abs(double(expected.data<float>()[i])));
    max_diff =
        std::max(max_diff, std::abs(double(actual.data<float>()[i]) - expected.data<float>()[i]));
  }
  EXPECT_LE(max_diff, 1e-4 * max_ref) << "max |diff| " << max_diff << ", max |ref| " << max_ref;
}

Tensor run_single(const ir::Graph& graph, const Tensor& input) {
  runtime::Executor executor(graph);
  auto outputs = executor.run({{graph.inputs.at(0)->name, input}});
  return outputs.at(graph.outputs.at(0)->name);
}

class TorchModel : public testing::TestWithParam<std::string> {};

TEST_P(TorchModel, MatchesPyTorchBeforeAndAfterCanonicalisation) {
  const std::string name = GetParam();
  auto graph = frontend::load_onnx(kModels + name + ".onnx");
  Tensor input = read_npy(kModels + name + ".input.npy");
  Tensor expected = read_npy(kModels + name + ".output.npy");
  ASSERT_EQ(graph->inputs.size(), 1u);
  // The batch dimension stays symbolic through import.
  ASSERT_TRUE(graph->inputs[0]->shape.has_value());
  EXPECT_EQ((*graph->inputs[0]->shape)[0].symbol, "batch");
  expect_close_to_torch(run_single(*graph, input), expected);

  passes::canonicalize(*graph, runtime::evaluate_node);
  expect_close_to_torch(run_single(*graph, input), expected);

  // Canonical form: weights in linear/conv, no ONNX matrix ops left, no BatchNorm.
  auto stats = ir::compute_stats(*graph);
  for (const char* gone : {"MatMul", "Gemm", "BatchNormalization", "Identity", "Conv",
                           "LayerNormalization", "Erf", "Constant"})
    EXPECT_EQ(stats.op_histogram.count(gone), 0u) << gone << "\n" << ir::print_graph(*graph);
  EXPECT_GT(stats.op_histogram["linear"], 0);
  if (name.rfind("vit", 0) == 0 || name.rfind("gpt", 0) == 0) {
    EXPECT_EQ(stats.op_histogram["matmul"], 4);      // Q·Kᵀ and A·V in two blocks
    EXPECT_EQ(stats.op_histogram["layer_norm"], 5);  // two per block + final
    EXPECT_EQ(stats.op_histogram["gelu"], 2);
  }

  // One sample at a time gives the same rows as the batch.
  int64_t batch = input.dim(0);
  int64_t per_in = input.numel() / batch, per_out = expected.numel() / batch;
  Shape one_in = input.shape(), one_out = expected.shape();
  one_in[0] = one_out[0] = 1;
  for (int64_t b = 0; b < batch; ++b) {
    Tensor x(input.dtype(), one_in);
    std::memcpy(x.raw(), input.raw() + b * per_in * dtype_size(input.dtype()),
                per_in * dtype_size(input.dtype()));
    Tensor y = run_single(*graph, x);
    Tensor y_ref(DType::kF32, one_out);
    std::memcpy(y_ref.raw(), expected.raw() + b * per_out * 4, per_out * 4);
    expect_close_to_torch(y, y_ref);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, TorchModel,
                         testing::Values("vit_tiny_op17", "vit_tiny_op13", "gpt_tiny_op17",
                                         "gpt_tiny_op13", "cnn_tiny_op17", "mlp_tiny_op17"));

TEST(TorchModel, GeluFormsAreRecognised) {
  auto graph = frontend::load_onnx(kModels + "gpt_tiny_op13.onnx");
  passes::canonicalize(*graph, runtime::evaluate_node);
  std::set<std::string> forms;
  for (const auto& node : graph->nodes()) {
    if (node->op == "gelu") forms.insert(node->attr_string("approximate", "?"));
  }
  EXPECT_EQ(forms, (std::set<std::string>{"none", "tanh"}));
}

// ---- hand-built models for the error paths ----

onnx::ModelProto tiny_model(const std::string& op = "Relu", int64_t opset = 17) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* import = model.add_opset_import();
  import->set_domain("");
  import->set_version(opset);
  auto* graph = model.mutable_graph();
  graph->set_name("tiny");
  auto* in = graph->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(4);
  auto* node = graph->add_node();
  node->set_op_type(op);
  node->set_name("the_node");
  node->add_input("x");
  node->add_output("y");
  graph->add_output()->set_name("y");
  return model;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

std::unique_ptr<ir::Graph> parse(const onnx::ModelProto& model, const std::string& dir = "") {
  std::string bytes = model.SerializeAsString();
  return frontend::parse_onnx(bytes, "m.onnx", dir);
}

TEST(OnnxErrors, UnsupportedOpNamesNodeOpAndSupportedList) {
  std::string msg = error_of([] { parse(tiny_model("FancyOp")); });
  EXPECT_NE(msg.find("m.onnx"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the_node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FancyOp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Supported ONNX ops"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MatMul"), std::string::npos) << msg;
}

// An attribute aimc does not implement would be ignored: refused, naming node and attribute.
TEST(OnnxErrors, UnknownAttributesAreRejected) {
  onnx::ModelProto model = tiny_model("LeakyRelu");
  auto* alpha = model.mutable_graph()->mutable_node(0)->add_attribute();
  alpha->set_name("alpha");
  alpha->set_type(onnx::AttributeProto::FLOAT);
  alpha->set_f(0.2f);
  EXPECT_NO_THROW(parse(model));  // a declared one
  auto* extra = model.mutable_graph()->mutable_node(0)->add_attribute();
  extra->set_name("slope_mode");
  extra->set_type(onnx::AttributeProto::INT);
  extra->set_i(1);
  std::string msg = error_of([&] { parse(model); });
  EXPECT_NE(msg.find("the_node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("attribute 'slope_mode'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("alpha"), std::string::npos) << msg;  // what it knows
}

TEST(OnnxErrors, CanonicalOpNamesAreNotOnnxOps) {
  std::string msg = error_of([] { parse(tiny_model("gelu")); });
  EXPECT_NE(msg.find("gelu"), std::string::npos) << msg;
}

TEST(OnnxErrors, OpsetOutOfRange) {
  std::string msg = error_of([] { parse(tiny_model("Relu", 0)); });
  EXPECT_NE(msg.find("opset 0"), std::string::npos) << msg;
  msg = error_of([] { parse(tiny_model("Relu", 18)); });
  EXPECT_NE(msg.find("opset 18"), std::string::npos) << msg;
}

TEST(OnnxErrors, OlderOpsetsOnlyWhereTheOpMeansTheSame) {
  EXPECT_NO_THROW(parse(tiny_model("Relu", 11)));  // Relu is unchanged since opset 6
  // Softmax before opset 13 flattens to 2-D at `axis`: a different op.
  std::string msg = error_of([] { parse(tiny_model("Softmax", 11)); });
  EXPECT_NE(msg.find("the_node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("opset 11"), std::string::npos) << msg;
  EXPECT_NE(msg.find("re-export"), std::string::npos) << msg;
}

TEST(OnnxErrors, TruncatedAndCorruptBytes) {
  std::string bytes = tiny_model().SerializeAsString();
  for (size_t cut : {size_t{1}, bytes.size() / 2, bytes.size() - 1}) {
    std::string msg = error_of([&] { frontend::parse_onnx(bytes.substr(0, cut), "m.onnx", ""); });
    EXPECT_NE(msg.find("m.onnx"), std::string::npos) << msg;
  }
  error_of([] { frontend::parse_onnx("\xff\xff\xff\xff garbage", "m.onnx", ""); });
  error_of([] { frontend::parse_onnx("", "m.onnx", ""); });
  error_of([] { frontend::load_onnx("/nonexistent/model.onnx"); });
}

TEST(OnnxErrors, UndefinedInputAndUnsupportedDtype) {
  auto model = tiny_model();
  model.mutable_graph()->mutable_node(0)->set_input(0, "nowhere");
  std::string msg = error_of([&] { parse(model); });
  EXPECT_NE(msg.find("nowhere"), std::string::npos) << msg;

  auto bf16 = tiny_model();
  bf16.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
      onnx::TensorProto::BFLOAT16);
  msg = error_of([&] { parse(bf16); });
  EXPECT_NE(msg.find("bfloat16"), std::string::npos) << msg;
}

onnx::ModelProto model_with_weight_on(onnx::ModelProto model, onnx::TensorProto weight) {
  auto* graph = model.mutable_graph();
  graph->mutable_node(0)->add_input("w");
  weight.set_name("w");
  *graph->add_initializer() = weight;
  return model;
}

onnx::ModelProto model_with_weight(onnx::TensorProto weight) {
  return model_with_weight_on(tiny_model("Add"), std::move(weight));
}

TEST(OnnxInitializers, RawAndTypedDataAgree) {
  onnx::TensorProto raw;
  raw.set_data_type(onnx::TensorProto::FLOAT);
  raw.add_dims(4);
  std::vector<float> values{1.f, -2.f, 3.5f, 0.25f};
  raw.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), 16));
  onnx::TensorProto typed;
  typed.set_data_type(onnx::TensorProto::FLOAT);
  typed.add_dims(4);
  for (float v : values) typed.add_float_data(v);
  Tensor x = Tensor::from_vector<float>({1, 4}, {1, 1, 1, 1});
  for (const auto& w : {raw, typed}) {
    auto graph = parse(model_with_weight(w));
    Tensor y = run_single(*graph, x);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<float>()[i], 1.f + values[i]);
  }
  typed.add_float_data(9.f);  // five values for four elements
  std::string msg = error_of([&] { parse(model_with_weight(typed)); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
}

// Each ONNX element type in the typed field the ONNX spec assigns it (FLOAT16 as bits in
// int32_data, UINT32 and UINT64 in uint64_data), and FLOAT16 as raw_data.
TEST(OnnxInitializers, EveryNumericTypeFromItsTypedField) {
  struct Case {
    onnx::TensorProto::DataType type;
    DType dtype;
    std::function<void(onnx::TensorProto&)> fill;
    std::vector<double> expected;
  };
  const std::vector<Case> cases = {
      {onnx::TensorProto::DOUBLE,
       DType::kF64,
       [](auto& t) {
         for (double v : {0.1, -2.5, 1e300, 0.0}) t.add_double_data(v);
       },
       {0.1, -2.5, 1e300, 0.0}},
      {onnx::TensorProto::FLOAT16,
       DType::kF16,
       [](auto& t) {
         for (int v : {0x3C00, 0xC100, 0x7BFF, 0x0001}) t.add_int32_data(v);
       },
       {1.0, -2.5, 65504.0, std::ldexp(1.0, -24)}},
      {onnx::TensorProto::FLOAT16,
       DType::kF16,
       [](auto& t) {
         const uint16_t bits[] = {0x3C00, 0xC100, 0x7BFF, 0x0001};
         t.set_raw_data(std::string(reinterpret_cast<const char*>(bits), sizeof(bits)));
       },
       {1.0, -2.5, 65504.0, std::ldexp(1.0, -24)}},
      {onnx::TensorProto::UINT8,
       DType::kU8,
       [](auto& t) {
         for (int v : {0, 255, 128, 7}) t.add_int32_data(v);
       },
       {0, 255, 128, 7}},
      {onnx::TensorProto::INT16,
       DType::kI16,
       [](auto& t) {
         for (int v : {-32768, 32767, -1, 0}) t.add_int32_data(v);
       },
       {-32768, 32767, -1, 0}},
      {onnx::TensorProto::UINT16,
       DType::kU16,
       [](auto& t) {
         for (int v : {65535, 0, 1, 40000}) t.add_int32_data(v);
       },
       {65535, 0, 1, 40000}},
      {onnx::TensorProto::UINT32,
       DType::kU32,
       [](auto& t) {
         for (uint64_t v : {4294967295ull, 0ull, 1ull, 3000000000ull}) t.add_uint64_data(v);
       },
       {4294967295.0, 0, 1, 3000000000.0}},
      {onnx::TensorProto::UINT64,
       DType::kU64,
       [](auto& t) {
         for (uint64_t v : {1ull << 63, 0ull, 1ull, 1ull << 53}) t.add_uint64_data(v);
       },
       {std::ldexp(1.0, 63), 0, 1, std::ldexp(1.0, 53)}},
  };
  for (const Case& c : cases) {
    auto model = tiny_model("Add");
    model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(
        c.type);
    onnx::TensorProto w;
    w.set_data_type(c.type);
    w.add_dims(4);
    c.fill(w);
    auto graph = parse(model_with_weight_on(std::move(model), w));
    const Tensor& constant = graph->find_value("w")->constant;
    ASSERT_EQ(constant.dtype(), c.dtype) << dtype_name(c.dtype);
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(constant.item_as_double(i), c.expected[static_cast<size_t>(i)])
          << dtype_name(c.dtype) << " " << i;
    }
  }
}

TEST(OnnxInitializers, ExternalDataIsReadOrRejectedClearly) {
  auto dir = std::filesystem::temp_directory_path() / "aimc_external_test";
  std::filesystem::create_directories(dir);
  std::vector<float> values{0.5f, 1.5f, 2.5f, 3.5f};
  {
    std::ofstream out(dir / "weights.bin", std::ios::binary);
    float pad = 0;
    out.write(reinterpret_cast<const char*>(&pad), 4);  // offset 4
    out.write(reinterpret_cast<const char*>(values.data()), 16);
  }
  onnx::TensorProto w;
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(4);
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  auto add_entry = [&](const std::string& k, const std::string& v) {
    auto* e = w.add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  add_entry("location", "weights.bin");
  add_entry("offset", "4");
  add_entry("length", "16");
  auto graph = parse(model_with_weight(w), dir.string());
  Tensor y = run_single(*graph, Tensor::from_vector<float>({1, 4}, {0, 0, 0, 0}));
  EXPECT_EQ(y.data<float>()[3], 3.5f);

  w.mutable_external_data(0)->set_value("missing.bin");
  std::string msg = error_of([&] { parse(model_with_weight(w), dir.string()); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing.bin"), std::string::npos) << msg;

  w.mutable_external_data(0)->set_value("weights.bin");
  w.mutable_external_data(1)->set_value("8");  // range runs past the end of the file
  msg = error_of([&] { parse(model_with_weight(w), dir.string()); });
  EXPECT_NE(msg.find("outside"), std::string::npos) << msg;
  std::filesystem::remove_all(dir);
}

// A few bytes that declare a 2^35-element initializer are rejected before 128 GiB are
// allocated (issue 20): the error names the initializer, not "out of memory".
TEST(OnnxInitializers, AHugeDeclaredShapeWithoutItsDataIsRejectedBeforeAllocating) {
  onnx::TensorProto w;
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(int64_t{1} << 35);
  w.set_raw_data(std::string(16, '\0'));
  std::string msg = error_of([&] { parse(model_with_weight(w)); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("needs 137438953472"), std::string::npos) << msg;
  w.clear_raw_data();
  for (int i = 0; i < 4; ++i) w.add_float_data(1.0f);
  msg = error_of([&] { parse(model_with_weight(w)); });
  EXPECT_NE(msg.find("holds 4 values"), std::string::npos) << msg;
}

// External data must stay inside the model's directory (issue 20): no absolute paths, no
// "..", no symbolic link out of it, regular files only; each case names the initializer.
TEST(OnnxInitializers, ExternalDataOutsideTheModelsDirectoryIsRejected) {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("aimc_external_escape_" + std::to_string(getpid()));
  const fs::path model_dir = root / "model";
  fs::create_directories(model_dir / "sub");
  std::vector<float> values{0.5f, 1.5f, 2.5f, 3.5f};
  for (const fs::path& file : {root / "secret.bin", model_dir / "sub" / "ok.bin"}) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()), 16);
  }
  fs::create_symlink(root / "secret.bin", model_dir / "link.bin");
  fs::create_directory(model_dir / "dir.bin");
  onnx::TensorProto w;
  w.set_data_type(onnx::TensorProto::FLOAT);
  w.add_dims(4);
  w.set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = w.add_external_data();
  location->set_key("location");
  auto error_for = [&](const std::string& where) {
    location->set_value(where);
    return error_of([&] { parse(model_with_weight(w), model_dir.string()); });
  };
  location->set_value("sub/ok.bin");  // inside: read
  auto graph = parse(model_with_weight(w), model_dir.string());
  EXPECT_EQ(run_single(*graph, Tensor::from_vector<float>({1, 4}, {0, 0, 0, 0})).data<float>()[2],
            2.5f);
  for (const auto& [where, expected] : std::vector<std::pair<std::string, std::string>>{
           {(root / "secret.bin").string(), "absolute path"},
           {"../secret.bin", "'..'"},
           {"sub/../../secret.bin", "'..'"},
           {"link.bin", "outside the model's directory"},
           {"dir.bin", "not a regular file"}}) {
    const std::string msg = error_for(where);
    EXPECT_NE(msg.find("'w'"), std::string::npos) << where << ": " << msg;
    EXPECT_NE(msg.find(expected), std::string::npos) << where << ": " << msg;
  }
  fs::remove_all(root);
}

TEST(OnnxInputs, WrongShapeOrDtypeIsRejected) {
  auto graph = parse(tiny_model());
  runtime::Executor executor(*graph);
  std::string msg = error_of([&] { executor.run({{"x", Tensor(DType::kF32, {2, 5})}}); });
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[batch, 4]"), std::string::npos) << msg;
  msg = error_of([&] { executor.run({{"x", Tensor(DType::kI64, {2, 4})}}); });
  EXPECT_NE(msg.find("dtype"), std::string::npos) << msg;
  EXPECT_NO_THROW(executor.run({{"x", Tensor(DType::kF32, {7, 4})}}));
}

}  // namespace
}  // namespace aimc
