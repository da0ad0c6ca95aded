// Helpers for the pass tests: build a small graph in a few lines, run a pass on a copy, and
// check the copy computes what the original did.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "aimc/core/rng.h"
#include "aimc/ir/graph.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"

namespace aimc::passes::test {

inline Tensor random_tensor(const Shape& shape, uint64_t seed, double scale = 1.0) {
  Tensor t(DType::kF32, shape);
  RngStream rng(seed, 0, "test", "tensor");
  float* data = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    data[i] = static_cast<float>(scale * rng.normal(static_cast<uint64_t>(i)));
  return t;
}

// Positive values in [low, low + 1) (variances).
inline Tensor random_positive(const Shape& shape, uint64_t seed, double low = 0.5) {
  Tensor t(DType::kF32, shape);
  RngStream rng(seed, 0, "test", "positive");
  float* data = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    data[i] = static_cast<float>(low + rng.uniform(static_cast<uint64_t>(i)));
  return t;
}

inline Tensor scalar(float value) {
  return Tensor::scalar<float>(value);
}

// Builds graphs one node per line: b.op("Add", {x, y}) returns the node's first output.
class GraphBuilder {
 public:
  GraphBuilder() { graph_ = std::make_unique<ir::Graph>(); }

  ir::Value* input(const std::string& name, const ir::SymShape& shape, DType dtype = DType::kF32) {
    ir::Value* v = graph_->add_value(name);
    v->dtype = dtype;
    v->dtype_known = true;
    v->shape = shape;
    graph_->inputs.push_back(v);
    return v;
  }
  ir::Value* input(const std::string& name, const Shape& shape) {
    return input(name, ir::to_sym_shape(shape));
  }
  ir::Value* constant(const std::string& name, Tensor value) {
    return graph_->add_constant(name, std::move(value));
  }
  ir::Value* constant(float value) {
    return graph_->add_constant(graph_->make_unique_name("c"), scalar(value));
  }
  // A node named `name` (made up from the op when empty) with `outputs` outputs named
  // name, name:1, ...; returns the first.
  ir::Value* op(const std::string& op, std::vector<ir::Value*> inputs,
                std::map<std::string, ir::AttrValue> attrs = {}, const std::string& name = "",
                size_t outputs = 1) {
    std::string node_name = name.empty() ? graph_->make_unique_name(op) : name;
    std::vector<ir::Value*> outs;
    for (size_t i = 0; i < outputs; ++i)
      outs.push_back(graph_->add_value(i == 0 ? node_name : node_name + ":" + std::to_string(i)));
    ir::Node* node = graph_->add_node(op, node_name, std::move(inputs), outs);
    node->attrs = std::move(attrs);
    return outs[0];
  }
  void output(ir::Value* v) { graph_->outputs.push_back(v); }
  // Infers shapes, verifies, and hands the graph over.
  std::unique_ptr<ir::Graph> finish() {
    ir::infer_shapes(*graph_);
    ir::verify(*graph_);
    return std::move(graph_);
  }
  ir::Graph& graph() { return *graph_; }

 private:
  std::unique_ptr<ir::Graph> graph_;
};

inline std::map<std::string, int> op_histogram(const ir::Graph& graph) {
  std::map<std::string, int> histogram;
  for (const auto& node : graph.nodes()) ++histogram[node->op];
  return histogram;
}

// Random inputs for the graph's inputs; symbolic dimensions take the value in `bindings`.
inline std::map<std::string, Tensor> random_inputs(
    const ir::Graph& graph, uint64_t seed, const std::map<std::string, int64_t>& bindings = {}) {
  std::map<std::string, Tensor> inputs;
  for (const ir::Value* in : graph.inputs) {
    Shape shape;
    for (const ir::Dim& d : *in->shape)
      shape.push_back(d.known() ? d.value : bindings.at(d.symbol));
    inputs[in->name] = random_tensor(shape, seed++);
  }
  return inputs;
}

// Both graphs give the same outputs (same names) on `inputs`, within 1e-5 relative (on the
// scale of 1: the test data are of order 1).
inline void expect_same_outputs(const ir::Graph& before, const ir::Graph& after,
                                const std::map<std::string, Tensor>& inputs,
                                double tolerance = 1e-5) {
  ASSERT_EQ(before.outputs.size(), after.outputs.size());
  for (size_t i = 0; i < before.outputs.size(); ++i)
    EXPECT_EQ(before.outputs[i]->name, after.outputs[i]->name) << "graph output " << i;
  auto expected = runtime::Executor(before).run(inputs);
  auto actual = runtime::Executor(after).run(inputs);
  for (const auto& [name, want] : expected) {
    ASSERT_TRUE(actual.count(name)) << "missing output " << name;
    const Tensor& got = actual.at(name);
    ASSERT_EQ(got.dtype(), want.dtype()) << name;
    ASSERT_EQ(got.shape(), want.shape()) << name;
    int mismatches = 0;
    for (int64_t i = 0; i < want.numel() && mismatches < 5; ++i) {
      double w = want.item_as_double(i), g = got.item_as_double(i);
      bool both_nan = std::isnan(w) && std::isnan(g);
      if (!both_nan && !(std::abs(w - g) <= tolerance * std::max(1.0, std::abs(w)))) {
        ADD_FAILURE() << name << "[" << i << "]: " << g << " != " << w;
        ++mismatches;
      }
    }
  }
}

// Runs `pass` on a copy of `graph`, checks the copy verifies and computes the same outputs on
// random inputs, and returns it.
template <typename Pass>
std::unique_ptr<ir::Graph> run_and_compare(const ir::Graph& graph, Pass pass, int expected_rewrites,
                                           const std::map<std::string, int64_t>& bindings = {}) {
  std::unique_ptr<ir::Graph> after = graph.clone();
  int rewrites = pass(*after);
  EXPECT_EQ(rewrites, expected_rewrites) << ir::print_graph(*after);
  EXPECT_NO_THROW(ir::verify(*after)) << ir::print_graph(*after);
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE(ir::print_graph(*after));
    expect_same_outputs(graph, *after, random_inputs(graph, seed * 100, bindings));
  }
  return after;
}

inline int fold(ir::Graph& graph) {
  return fold_constants(graph, runtime::evaluate_node);
}

}  // namespace aimc::passes::test
