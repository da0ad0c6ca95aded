// Backward rules of the element-wise ops (with numpy broadcasting) and the shared helpers.
#include <cmath>
#include <numbers>

#include "aimc/core/error.h"
#include "aimc/train/backward_rules.h"

namespace aimc::train {

namespace detail {

namespace {

// Strides of `shape` aligned to the rank of `out`, 0 along broadcast dimensions.
Shape aligned_strides(const Shape& shape, const Shape& out) {
  AIMC_ASSERT(shape.size() <= out.size(), "broadcast: {} has rank above {}", shape_str(shape),
              shape_str(out));
  Shape own = shape_strides(shape);
  Shape strides(out.size(), 0);
  size_t lead = out.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    AIMC_ASSERT(shape[i] == out[lead + i] || shape[i] == 1, "broadcast: {} does not fit {}",
                shape_str(shape), shape_str(out));
    strides[lead + i] = shape[i] == 1 ? 0 : own[i];
  }
  return strides;
}

// Calls f(out_index, operand_offset) for every element of `out` in row-major order.
template <typename F>
void for_each_broadcast(const Shape& out, const Shape& strides, F&& f) {
  const int64_t n = shape_numel(out);
  if (n == 0) return;
  std::vector<int64_t> index(out.size(), 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, offset);
    for (size_t d = out.size(); d-- > 0;) {
      offset += strides[d];
      if (++index[d] < out[d]) break;
      offset -= strides[d] * out[d];
      index[d] = 0;
    }
  }
}

}  // namespace

Tensor reduce_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  Tensor out(DType::kF32, shape);
  const float* g = grad.data<float>();
  float* o = out.data<float>();
  for_each_broadcast(grad.shape(), aligned_strides(shape, grad.shape()),
                     [&](int64_t i, int64_t offset) { o[offset] += g[i]; });
  return out;
}

Tensor broadcast_to(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  Tensor out(t.dtype(), shape);
  const size_t bytes = dtype_size(t.dtype());
  const std::byte* in = t.raw();
  std::byte* o = out.raw();
  for_each_broadcast(shape, aligned_strides(t.shape(), shape), [&](int64_t i, int64_t offset) {
    std::memcpy(o + i * static_cast<int64_t>(bytes), in + offset * static_cast<int64_t>(bytes),
                bytes);
  });
  return out;
}

Tensor zeros_like(const Tensor& t) {
  return Tensor(DType::kF32, t.shape());
}

}  // namespace detail

namespace {

using detail::broadcast_to;
using detail::reduce_to_shape;

// d/dx of y = f(x) as a function of (x, y): the rule multiplies it by the output gradient.
template <typename Derivative>
BackwardRule unary(Derivative derivative) {
  return {[derivative](const BackwardArgs& a) {
            const Tensor& x = a.inputs[0];
            const Tensor& y = a.outputs[0];
            const Tensor& g = a.grad_outputs[0];
            Tensor dx(DType::kF32, x.shape());
            const float* px = x.data<float>();
            const float* py = y.data<float>();
            const float* pg = g.data<float>();
            float* pd = dx.data<float>();
            for (int64_t i = 0; i < x.numel(); ++i)
              pd[i] = static_cast<float>(pg[i] * derivative(double{px[i]}, double{py[i]}));
            return std::vector<Tensor>{dx};
          },
          {0}};
}

// For z = f(a, b) with broadcasting: da = reduce(g * ∂f/∂a), db = reduce(g * ∂f/∂b), the
// partials given as functions of (a, b) at each output element.
template <typename Da, typename Db>
BackwardRule binary(Da da, Db db, size_t first = 0) {
  return {[da, db, first](const BackwardArgs& a) {
            const Tensor& g = a.grad_outputs[0];
            const Shape& out = g.shape();
            Tensor lhs = broadcast_to(a.inputs[first], out);
            Tensor rhs = broadcast_to(a.inputs[first + 1], out);
            const float* pa = lhs.data<float>();
            const float* pb = rhs.data<float>();
            const float* pg = g.data<float>();
            std::vector<Tensor> grads(a.inputs.size());
            auto partial = [&](auto&& d, size_t input) {
              if (!a.needs_grad[input]) return;
              Tensor full(DType::kF32, out);
              float* pf = full.data<float>();
              for (int64_t i = 0; i < full.numel(); ++i)
                pf[i] = static_cast<float>(pg[i] * d(double{pa[i]}, double{pb[i]}));
              grads[input] = reduce_to_shape(full, a.inputs[input].shape());
            };
            partial(da, first);
            partial(db, first + 1);
            return grads;
          },
          {first, first + 1}};
}

// Where(condition, x, y): the gradient goes to x where the condition holds, to y elsewhere.
BackwardRule where_rule() {
  return {[](const BackwardArgs& a) {
            const Tensor& g = a.grad_outputs[0];
            Tensor condition = broadcast_to(a.inputs[0], g.shape());
            const bool* pc = condition.data<bool>();
            const float* pg = g.data<float>();
            std::vector<Tensor> grads(3);
            for (size_t input : {size_t{1}, size_t{2}}) {
              if (!a.needs_grad[input]) continue;
              Tensor full(DType::kF32, g.shape());
              float* pf = full.data<float>();
              for (int64_t i = 0; i < full.numel(); ++i)
                pf[i] = pc[i] == (input == 1) ? pg[i] : 0.0f;
              grads[input] = reduce_to_shape(full, a.inputs[input].shape());
            }
            return grads;
          },
          {1, 2}};
}

}  // namespace

void register_elementwise_backward(BackwardRegistry& registry) {
  auto one = [](double, double) { return 1.0; };
  registry.add("Add", binary(one, one));
  registry.add("Sub", binary(one, [](double, double) { return -1.0; }));
  registry.add("Mul",
               binary([](double, double b) { return b; }, [](double a, double) { return a; }));
  registry.add("Div", binary([](double, double b) { return 1.0 / b; },
                             [](double a, double b) { return -a / (b * b); }));
  registry.add(
      "Pow", binary([](double a, double b) { return b * std::pow(a, b - 1.0); },
                    [](double a, double b) { return a > 0 ? std::pow(a, b) * std::log(a) : 0.0; }));
  registry.add("Where", where_rule());
  registry.add("Identity", unary([](double, double) { return 1.0; }));
  registry.add("Neg", unary([](double, double) { return -1.0; }));
  registry.add("Relu", unary([](double x, double) { return x > 0 ? 1.0 : 0.0; }));
  registry.add("Sigmoid", unary([](double, double y) { return y * (1.0 - y); }));
  registry.add("Tanh", unary([](double, double y) { return 1.0 - y * y; }));
  registry.add("Exp", unary([](double, double y) { return y; }));
  registry.add("Log", unary([](double x, double) { return 1.0 / x; }));
  registry.add("Sqrt", unary([](double, double y) { return 0.5 / y; }));
  registry.add("Abs", unary([](double x, double) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }));
  registry.add("Erf", unary([](double x, double) {
                 return 2.0 / std::sqrt(std::numbers::pi) * std::exp(-x * x);
               }));
}

}  // namespace aimc::train
