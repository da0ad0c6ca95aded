// ONNX's own backend node tests (Debian's libonnx-testdata), one test per case. A case whose
// model uses an op aimc does not support is skipped as out of scope; a case listed in
// excluded.txt is skipped with the reason given there (docs/conformance.md lists them all).
// Every other case must match the reference outputs at the suite's tolerances
// (rtol 1e-3, atol 1e-7, as in onnx/backend/test/runner).
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"

namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> load_excludes() {
  std::map<std::string, std::string> excludes;
  std::ifstream in(AIMC_CONFORMANCE_EXCLUDES);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.find_first_of(" \t");
    std::string name = line.substr(0, space);
    std::string reason =
        space == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", space));
    excludes[name] = reason;
  }
  return excludes;
}

std::vector<std::string> list_cases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(AIMC_ONNX_NODE_TESTS, ec)) {
    if (fs::exists(entry.path() / "model.onnx")) cases.push_back(entry.path().filename().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

// Compares element by element; returns "" when equal within tolerance, else a description.
std::string compare(const aimc::Tensor& expected, const aimc::Tensor& actual) {
  using aimc::DType;
  if (expected.dtype() != actual.dtype())
    return std::string("dtype ") + aimc::dtype_name(actual.dtype()) + " != expected " +
           aimc::dtype_name(expected.dtype());
  if (expected.shape() != actual.shape())
    return "shape " + aimc::shape_str(actual.shape()) + " != expected " +
           aimc::shape_str(expected.shape());
  constexpr double kRtol = 1e-3, kAtol = 1e-7;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    double e = expected.item_as_double(i);
    double a = actual.item_as_double(i);
    bool ok;
    if (expected.dtype() == DType::kF32) {
      ok = (std::isnan(e) && std::isnan(a)) || (std::isinf(e) && e == a) ||
           std::abs(a - e) <= kAtol + kRtol * std::abs(e);
    } else {
      ok = expected.item_as_int(i) == actual.item_as_int(i);
    }
    if (!ok) {
      std::ostringstream s;
      s << "element " << i << ": got " << a << ", expected " << e;
      return s.str();
    }
  }
  return "";
}

class OnnxNodeTest : public testing::TestWithParam<std::string> {};

TEST_P(OnnxNodeTest, MatchesReference) {
  static const auto excludes = load_excludes();
  const std::string name = GetParam();
  auto excluded = excludes.find(name);
  if (excluded != excludes.end()) GTEST_SKIP() << "excluded: " << excluded->second;
  fs::path dir = fs::path(AIMC_ONNX_NODE_TESTS) / name;

  // Out of scope: the model uses an op (or domain) aimc does not support.
  {
    onnx::ModelProto model;
    std::ifstream in(dir / "model.onnx", std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&in)) << "cannot parse " << dir;
    std::set<std::string> unsupported;
    for (const auto& node : model.graph().node()) {
      bool default_domain = node.domain().empty() || node.domain() == "ai.onnx";
      if (!default_domain || !aimc::ir::OpRegistry::instance().find(node.op_type()))
        unsupported.insert(node.domain().empty() ? node.op_type()
                                                 : node.domain() + "::" + node.op_type());
    }
    if (model.opset_import_size() == 0) unsupported.insert("(no default opset)");
    for (const auto& import : model.opset_import()) {
      if (!import.domain().empty() && import.domain() != "ai.onnx")
        unsupported.insert(import.domain() + " domain");
    }
    if (!unsupported.empty()) {
      std::string list;
      for (const auto& op : unsupported) list += (list.empty() ? "" : ", ") + op;
      GTEST_SKIP() << "out of scope: unsupported op(s) [" << list << "]";
    }
  }

  std::unique_ptr<aimc::ir::Graph> graph;
  try {
    graph = aimc::frontend::load_onnx((dir / "model.onnx").string());
  } catch (const aimc::Error& e) {
    FAIL() << "import failed: " << e.what();
  }

  for (bool canonical : {false, true}) {
    SCOPED_TRACE(canonical ? "canonicalised graph" : "imported graph");
    std::unique_ptr<aimc::ir::Graph> g = graph->clone();
    if (canonical) aimc::passes::canonicalize(*g, aimc::runtime::evaluate_node);
    aimc::runtime::Executor executor(*g);
    for (int set = 0;; ++set) {
      fs::path data = dir / ("test_data_set_" + std::to_string(set));
      if (!fs::exists(data)) break;
      std::map<std::string, aimc::Tensor> inputs;
      for (size_t i = 0; i < g->inputs.size(); ++i) {
        fs::path pb = data / ("input_" + std::to_string(i) + ".pb");
        ASSERT_TRUE(fs::exists(pb)) << pb;
        inputs[g->inputs[i]->name] = aimc::frontend::load_tensor_pb(pb.string());
      }
      std::map<std::string, aimc::Tensor> outputs;
      try {
        outputs = executor.run(inputs);
      } catch (const aimc::Error& e) {
        FAIL() << "run failed on " << data.filename() << ": " << e.what();
      }
      for (size_t i = 0; i < g->outputs.size(); ++i) {
        fs::path pb = data / ("output_" + std::to_string(i) + ".pb");
        ASSERT_TRUE(fs::exists(pb)) << pb;
        aimc::Tensor expected = aimc::frontend::load_tensor_pb(pb.string());
        std::string diff = compare(expected, outputs.at(g->outputs[i]->name));
        EXPECT_EQ(diff, "") << data.filename() << " output " << i << " (" << g->outputs[i]->name
                            << ")";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Onnx, OnnxNodeTest, testing::ValuesIn(list_cases()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
