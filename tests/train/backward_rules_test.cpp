// Every backward rule against central finite differences of the forward kernels: for a small
// graph with random constants, the gradient of L = Σ r·y (r random, y the graph's outputs)
// from train::backward must match (L(c + h) - L(c - h)) / 2h element by element. The forward
// kernels are float32; L is summed in double and h is chosen so that float32 rounding stays
// well below the tolerance.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "aimc/ir/graph.h"
#include "aimc/runtime/executor.h"
#include "aimc/train/autodiff.h"
#include "aimc/train/backward_rules.h"

namespace aimc::train {
namespace {

Tensor random_tensor(Shape shape, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(DType::kF32, std::move(shape));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Values away from 0 (for Relu, Abs, Div's denominator): magnitudes in [0.2, 1].
Tensor away_from_zero(Shape shape, std::mt19937& rng) {
  Tensor t = random_tensor(std::move(shape), rng, 0.2f, 1.0f);
  std::bernoulli_distribution sign(0.5);
  for (int64_t i = 0; i < t.numel(); ++i)
    if (sign(rng)) t.data<float>()[i] = -t.data<float>()[i];
  return t;
}

Tensor ints(Shape shape, std::vector<int64_t> values) {
  return Tensor::from_vector<int64_t>(std::move(shape), values);
}

class GradCase {
 public:
  ir::Value* param(Tensor t) {
    ir::Value* v = graph.add_constant("p" + std::to_string(params.size()), std::move(t));
    params.push_back(v);
    return v;
  }
  ir::Value* constant(Tensor t) {
    return graph.add_constant("c" + std::to_string(constants++), std::move(t));
  }
  std::vector<ir::Value*> node(const std::string& op, std::vector<ir::Value*> inputs,
                               size_t outputs = 1) {
    std::vector<ir::Value*> outs;
    for (size_t i = 0; i < outputs; ++i)
      outs.push_back(graph.add_value("v" + std::to_string(values++)));
    last = graph.add_node(op, "n" + std::to_string(nodes++), std::move(inputs), outs);
    return outs;
  }
  ir::Node* last = nullptr;
  ir::Graph graph;
  std::vector<ir::Value*> params;

  // Checks every parameter's gradient (all elements) against central differences.
  void check(double h = 2e-3, double tolerance = 2e-3) {
    std::mt19937 rng(7);
    std::map<const ir::Value*, Tensor> weights;  // r per output
    ForwardRecord record;
    forward_recorded(graph, {}, record);
    for (ir::Value* out : graph.outputs) {
      const Tensor& y = record.get(out);
      weights[out] = random_tensor(y.shape(), rng);
    }
    std::set<const ir::Value*> wanted(params.begin(), params.end());
    std::map<const ir::Value*, Tensor> grads = backward(graph, record, weights, wanted);
    runtime::Executor executor(graph);
    auto loss = [&] {
      std::map<std::string, Tensor> outs = executor.run({});
      double sum = 0.0;
      for (ir::Value* out : graph.outputs) {
        const Tensor& y = outs.at(out->name);
        const Tensor& r = weights.at(out);
        for (int64_t i = 0; i < y.numel(); ++i)
          sum += double{y.data<float>()[i]} * r.data<float>()[i];
      }
      return sum;
    };
    for (ir::Value* p : params) {
      const Tensor original = p->constant;
      const Tensor& grad = grads.at(p);
      ASSERT_EQ(grad.shape(), original.shape()) << p->name;
      for (int64_t i = 0; i < original.numel(); ++i) {
        auto at = [&](double delta) {
          Tensor moved = original.clone();
          moved.data<float>()[i] += static_cast<float>(delta);
          // The step actually taken in float32.
          double taken = double{moved.data<float>()[i]} - original.data<float>()[i];
          p->constant = moved;
          double value = loss();
          p->constant = original;
          return std::pair{value, taken};
        };
        auto [plus, step_plus] = at(h);
        auto [minus, step_minus] = at(-h);
        double numeric = (plus - minus) / (step_plus - step_minus);
        double analytic = grad.data<float>()[i];
        EXPECT_NEAR(analytic, numeric, tolerance * std::max(1.0, std::abs(numeric)))
            << last->op << " " << p->name << "[" << i << "]";
      }
    }
  }

 private:
  int constants = 0, values = 0, nodes = 0;
};

TEST(BackwardRules, BroadcastArithmetic) {
  std::mt19937 rng(1);
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    GradCase c;
    ir::Value* a = c.param(random_tensor({2, 3, 4}, rng));
    ir::Value* b = c.param(std::string(op) == "Div" ? away_from_zero({3, 1}, rng)
                                                    : random_tensor({3, 1}, rng));
    c.graph.outputs = c.node(op, {a, b});
    c.check();
  }
}

TEST(BackwardRules, PowWithConstantExponentAndWhere) {
  std::mt19937 rng(2);
  GradCase c;
  ir::Value* base = c.param(random_tensor({3, 4}, rng, 0.5f, 1.5f));
  ir::Value* exponent = c.constant(Tensor::scalar(2.5f));
  ir::Value* powered = c.node("Pow", {base, exponent})[0];
  Tensor mask(DType::kBool, {4});
  for (int i = 0; i < 4; ++i) mask.data<bool>()[i] = i % 2 == 0;
  ir::Value* other = c.param(random_tensor({1, 4}, rng));
  c.graph.outputs = c.node("Where", {c.constant(mask), powered, other});
  c.check();
}

TEST(BackwardRules, UnaryOps) {
  std::mt19937 rng(3);
  for (const char* op :
       {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Neg", "Erf", "Identity", "gelu"}) {
    GradCase c;
    std::string name = op;
    Tensor x = (name == "Log" || name == "Sqrt") ? random_tensor({2, 5}, rng, 0.5f, 2.0f)
                                                 : away_from_zero({2, 5}, rng);
    c.graph.outputs = c.node(op, {c.param(x)});
    c.check();
  }
  GradCase c;
  c.graph.outputs = c.node("gelu", {c.param(random_tensor({2, 5}, rng, -3.0f, 3.0f))});
  c.last->attrs["approximate"] = std::string("tanh");
  c.check();
}

TEST(BackwardRules, LinearAndMatmul) {
  std::mt19937 rng(4);
  {
    GradCase c;
    c.graph.outputs =
        c.node("linear", {c.param(random_tensor({2, 3, 5}, rng)),
                          c.param(random_tensor({5, 4}, rng)), c.param(random_tensor({4}, rng))});
    c.check();
  }
  for (auto [a, b] : std::vector<std::pair<Shape, Shape>>{
           {{2, 1, 3, 4}, {3, 4, 5}}, {{4}, {2, 4, 3}}, {{2, 3, 4}, {4}}, {{3, 4}, {4, 2}}}) {
    GradCase c;
    c.graph.outputs =
        c.node("matmul", {c.param(random_tensor(a, rng)), c.param(random_tensor(b, rng))});
    c.check();
  }
}

TEST(BackwardRules, Conv2dWithPadsStridesDilationsAndGroups) {
  std::mt19937 rng(5);
  GradCase c;
  c.graph.outputs =
      c.node("conv", {c.param(random_tensor({2, 4, 6, 5}, rng)),
                      c.param(random_tensor({6, 2, 3, 2}, rng)), c.param(random_tensor({6}, rng))});
  c.last->attrs["kernel_shape"] = std::vector<int64_t>{3, 2};
  c.last->attrs["pads"] = std::vector<int64_t>{1, 0, 2, 1};
  c.last->attrs["strides"] = std::vector<int64_t>{2, 1};
  c.last->attrs["dilations"] = std::vector<int64_t>{1, 2};
  c.last->attrs["group"] = int64_t{2};
  c.check();
}

TEST(BackwardRules, Conv1d) {
  std::mt19937 rng(6);
  GradCase c;
  c.graph.outputs = c.node(
      "conv", {c.param(random_tensor({2, 3, 7}, rng)), c.param(random_tensor({4, 3, 3}, rng))});
  c.last->attrs["kernel_shape"] = std::vector<int64_t>{3};
  c.last->attrs["pads"] = std::vector<int64_t>{1, 1};
  c.last->attrs["strides"] = std::vector<int64_t>{2};
  c.check();
}

// Distinct values at least 0.05 apart, so that no window's maximum changes within ±h.
Tensor distinct_values(Shape shape, std::mt19937& rng) {
  Tensor t(DType::kF32, std::move(shape));
  std::vector<float> values(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.05f * static_cast<float>(i) - 1.0f;
  std::shuffle(values.begin(), values.end(), rng);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = values[static_cast<size_t>(i)];
  return t;
}

TEST(BackwardRules, Pooling) {
  std::mt19937 rng(8);
  {
    GradCase c;
    c.graph.outputs = c.node("MaxPool", {c.param(distinct_values({2, 2, 5, 5}, rng))});
    c.last->attrs["kernel_shape"] = std::vector<int64_t>{2, 2};
    c.last->attrs["strides"] = std::vector<int64_t>{2, 2};
    c.last->attrs["pads"] = std::vector<int64_t>{0, 0, 1, 1};
    c.check();
  }
  for (int64_t include_pad : {0, 1}) {
    GradCase c;
    c.graph.outputs = c.node("AveragePool", {c.param(random_tensor({1, 2, 5, 4}, rng))});
    c.last->attrs["kernel_shape"] = std::vector<int64_t>{3, 2};
    c.last->attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    c.last->attrs["count_include_pad"] = include_pad;
    c.check();
  }
  GradCase c;
  c.graph.outputs = c.node("GlobalAveragePool", {c.param(random_tensor({2, 3, 4, 2}, rng))});
  c.check();
}

TEST(BackwardRules, LayerNormSoftmaxLogSoftmax) {
  std::mt19937 rng(9);
  {
    GradCase c;
    c.graph.outputs =
        c.node("layer_norm", {c.param(random_tensor({2, 3, 6}, rng)),
                              c.param(random_tensor({6}, rng)), c.param(random_tensor({6}, rng))});
    c.last->attrs["epsilon"] = 1e-5;
    c.check();
  }
  {
    GradCase c;  // normalised over the last two axes
    c.graph.outputs = c.node("layer_norm", {c.param(random_tensor({2, 3, 4}, rng)),
                                            c.param(random_tensor({3, 4}, rng))});
    c.last->attrs["axis"] = int64_t{1};
    c.check();
  }
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    GradCase c;
    c.graph.outputs = c.node(op, {c.param(random_tensor({2, 4, 3}, rng, -2.0f, 2.0f))});
    c.last->attrs["axis"] = int64_t{1};
    c.check();
  }
}

TEST(BackwardRules, ElementMovingOps) {
  std::mt19937 rng(10);
  {
    GradCase c;
    ir::Value* x = c.param(random_tensor({2, 3, 4}, rng));
    ir::Value* r = c.node("Reshape", {x, c.constant(ints({2}, {4, 6}))})[0];
    ir::Value* t = c.node("Transpose", {r})[0];
    c.last->attrs["perm"] = std::vector<int64_t>{1, 0};
    ir::Value* f = c.node("Flatten", {t})[0];
    c.last->attrs["axis"] = int64_t{0};
    ir::Value* u = c.node("Unsqueeze", {f, c.constant(ints({1}, {0}))})[0];
    ir::Value* e = c.node("Expand", {u, c.constant(ints({3}, {2, 3, 24}))})[0];
    c.graph.outputs = {e};
    c.check();
  }
  {
    GradCase c;
    ir::Value* x = c.param(random_tensor({3, 7}, rng));
    auto parts = c.node("Split", {x, c.constant(ints({3}, {2, 4, 1}))}, 3);
    c.last->attrs["axis"] = int64_t{1};
    ir::Value* sliced =
        c.node("Slice", {parts[1], c.constant(ints({1}, {-1})), c.constant(ints({1}, {-100})),
                         c.constant(ints({1}, {1})), c.constant(ints({1}, {-2}))})[0];
    ir::Value* gathered = c.node("Gather", {x, c.constant(ints({4}, {0, 2, 2, -1}))})[0];
    ir::Value* y = c.param(random_tensor({3, 2}, rng));
    ir::Value* joined = c.node("Concat", {parts[0], sliced, y, parts[2]})[0];
    c.last->attrs["axis"] = int64_t{1};
    ir::Value* squeezed =
        c.node("Squeeze", {c.node("Unsqueeze", {joined, c.constant(ints({1}, {1}))})[0],
                           c.constant(ints({1}, {1}))})[0];
    c.graph.outputs = {squeezed, gathered};
    c.check();
  }
}

// A value read twice gets the sum of both gradients; a parameter the outputs do not depend on
// gets zeros.
TEST(Autodiff, SumsOverReadersAndZeroForUnusedWeights) {
  std::mt19937 rng(11);
  GradCase c;
  ir::Value* x = c.param(random_tensor({3}, rng));
  ir::Value* unused = c.param(random_tensor({2}, rng));
  c.node("Neg", {unused});
  ir::Value* squared = c.node("Mul", {x, x})[0];
  c.graph.outputs = c.node("Add", {squared, x});
  c.check();
  ForwardRecord record;
  forward_recorded(c.graph, {}, record);
  auto grads =
      backward(c.graph, record, {{c.graph.outputs[0], Tensor(DType::kF32, {3})}}, {unused});
  for (int64_t i = 0; i < 2; ++i) EXPECT_EQ(grads.at(unused).data<float>()[i], 0.0f);
}

TEST(Autodiff, NonDifferentiableOpIsNamed) {
  GradCase c;
  ir::Value* x = c.param(Tensor::from_vector<float>({3}, {1.5f, -2.0f, 0.2f}));
  ir::Value* rounded = c.node("Floor", {x})[0];
  c.graph.outputs = c.node("Neg", {rounded});
  try {
    check_differentiable(c.graph, {x});
    FAIL() << "Floor has no backward rule";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("node 'n0' (Floor)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace aimc::train
