#include "aimc/train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"

namespace aimc::train {

double learning_rate(Schedule schedule, double peak, int64_t step, int64_t total, int64_t warmup) {
  auto cosine = [](double from, double to, double progress) {
    return to + (from - to) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  };
  switch (schedule) {
    case Schedule::kConstant:
      return step < warmup ? peak * static_cast<double>(step + 1) / static_cast<double>(warmup)
                           : peak;
    case Schedule::kCosine: {
      if (step < warmup) return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
      double progress = static_cast<double>(step - warmup) /
                        static_cast<double>(std::max<int64_t>(1, total - warmup));
      return cosine(peak, 0.0, std::min(1.0, progress));
    }
    case Schedule::kOneCycle: {
      const double initial = peak / 25.0, final_rate = initial / 1e4;
      const double up = 0.3 * static_cast<double>(total) - 1.0;
      const double s = static_cast<double>(step);
      if (s <= up) return cosine(initial, peak, up > 0 ? s / up : 1.0);
      const double down = static_cast<double>(total) - 1.0 - up;
      return cosine(peak, final_rate, down > 0 ? std::min(1.0, (s - up) / down) : 1.0);
    }
  }
  return peak;
}

const char* optimizer_name(OptimizerKind kind) {
  return kind == OptimizerKind::kSgd ? "sgd" : "adamw";
}

const char* schedule_name(Schedule schedule) {
  switch (schedule) {
    case Schedule::kConstant:
      return "constant";
    case Schedule::kCosine:
      return "cosine";
    case Schedule::kOneCycle:
      return "one-cycle";
  }
  return "?";
}

Optimizer::Optimizer(OptimizerOptions options, std::vector<Parameter> parameters)
    : options_(options), parameters_(std::move(parameters)) {
  const int per = options_.kind == OptimizerKind::kSgd ? 1 : 2;
  for (int k = 0; k < per; ++k) {
    for (const Parameter& p : parameters_)
      moments_.emplace_back(DType::kF32, p.value->constant.shape());
  }
}

namespace {

double global_norm(const std::vector<Parameter>& parameters,
                   const std::map<const ir::Value*, Tensor>& grads) {
  double sum = 0.0;  // in parameter order: the same for any thread count
  for (const Parameter& p : parameters) {
    const Tensor& g = grads.at(p.value);
    const float* pg = g.data<float>();
    for (int64_t i = 0; i < g.numel(); ++i) sum += double{pg[i]} * pg[i];
  }
  return std::sqrt(sum);
}

// Layer-wise Gaussian clipping: ±sigma·std of the tensor's elements.
void clip_weights(Tensor& w, double sigma) {
  const float* p = w.data<float>();
  double mean = 0.0, sq = 0.0;
  for (int64_t i = 0; i < w.numel(); ++i) mean += p[i];
  mean /= static_cast<double>(w.numel());
  for (int64_t i = 0; i < w.numel(); ++i) sq += (p[i] - mean) * (p[i] - mean);
  const auto bound = static_cast<float>(sigma * std::sqrt(sq / static_cast<double>(w.numel())));
  float* q = w.data<float>();
  for (int64_t i = 0; i < w.numel(); ++i) q[i] = std::clamp(q[i], -bound, bound);
}

}  // namespace

double Optimizer::step(const std::map<const ir::Value*, Tensor>& grads, double lr) {
  const double norm = global_norm(parameters_, grads);
  const double clip = options_.clip_grad_norm > 0 && norm > options_.clip_grad_norm
                          ? options_.clip_grad_norm / norm
                          : 1.0;
  ++steps_;
  const auto t = static_cast<double>(steps_);
  const double bias1 = 1.0 - std::pow(options_.beta1, t), bias2 = 1.0 - std::pow(options_.beta2, t);
  const size_t n = parameters_.size();
  for (size_t k = 0; k < n; ++k) {
    const Parameter& p = parameters_[k];
    Tensor w = p.value->constant.clone();
    const float* g = grads.at(p.value).data<float>();
    float* pw = w.data<float>();
    const double decay = p.decay ? options_.weight_decay : 0.0;
    if (options_.kind == OptimizerKind::kSgd) {
      float* velocity = moments_[k].data<float>();
      parallel_for(0, w.numel(), 4096, [&](int64_t i) {
        double grad = g[i] * clip + decay * pw[i];
        velocity[i] = static_cast<float>(options_.momentum * velocity[i] + grad);
        pw[i] = static_cast<float>(pw[i] - lr * velocity[i]);
      });
    } else {
      float* m = moments_[k].data<float>();
      float* v = moments_[n + k].data<float>();
      parallel_for(0, w.numel(), 4096, [&](int64_t i) {
        double grad = g[i] * clip;
        m[i] = static_cast<float>(options_.beta1 * m[i] + (1.0 - options_.beta1) * grad);
        v[i] = static_cast<float>(options_.beta2 * v[i] + (1.0 - options_.beta2) * grad * grad);
        double update = (m[i] / bias1) / (std::sqrt(v[i] / bias2) + options_.epsilon);
        pw[i] = static_cast<float>(pw[i] * (1.0 - lr * decay) - lr * update);
      });
    }
    if (options_.clip_weight_sigma > 0 && p.decay) clip_weights(w, options_.clip_weight_sigma);
    p.value->constant = w;
  }
  return norm;
}

}  // namespace aimc::train
