#include "aimc/train/finetune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "aimc/analog/executor.h"
#include "aimc/api/model.h"
#include "aimc/core/error.h"
#include "aimc/core/npy.h"
#include "aimc/core/rng.h"
#include "aimc/data/fashion_mnist.h"
#include "aimc/frontend/onnx_writeback.h"
#include "aimc/runtime/executor.h"
#include "aimc/train/autodiff.h"
#include "aimc/train/checkpoint.h"
#include "aimc/train/loss.h"

namespace aimc::train {

namespace {

// Training chips are trials from 2^32 on: never one of the chips `aimc eval` draws (trials
// 0, 1, ...), so that fine-tuning cannot learn the noise of the chips it is judged on.
constexpr uint64_t kFirstTrainingTrial = uint64_t{1} << 32;

void validate(const FinetuneOptions& o) {
  auto finite_positive = [](double v) { return std::isfinite(v) && v > 0; };
  if (!finite_positive(o.lr)) throw_bad_input("--lr must be a positive number, got {}", o.lr);
  if (o.epochs < 1 || o.epochs > 100000)
    throw_bad_input("--epochs must be in [1, 100000], got {}", o.epochs);
  if (o.batch < 1 || o.batch > 65536)
    throw_bad_input("--batch must be in [1, 65536], got {}", o.batch);
  if (o.limit == 0) throw_bad_input("--limit must be positive (or omitted for the whole split)");
  if (!(o.distill >= 0 && o.distill <= 1))
    throw_bad_input("--distill must be in [0, 1], got {}", o.distill);
  if (!finite_positive(o.temperature))
    throw_bad_input("--temperature must be a positive number, got {}", o.temperature);
  if (!(o.weight_noise >= 0 && std::isfinite(o.weight_noise)))
    throw_bad_input("--weight-noise must be >= 0, got {}", o.weight_noise);
  if (o.warmup < 0) throw_bad_input("--warmup must be >= 0, got {}", o.warmup);
  const OptimizerOptions& p = o.optimizer;
  if (!(p.weight_decay >= 0 && std::isfinite(p.weight_decay)))
    throw_bad_input("--weight-decay must be >= 0, got {}", p.weight_decay);
  if (!(p.clip_grad_norm >= 0 && std::isfinite(p.clip_grad_norm)))
    throw_bad_input("--clip-grad-norm must be >= 0, got {}", p.clip_grad_norm);
  if (!(p.clip_weight_sigma >= 0 && std::isfinite(p.clip_weight_sigma)))
    throw_bad_input("--clip-weights must be >= 0, got {}", p.clip_weight_sigma);
  if (!(p.momentum >= 0 && p.momentum < 1))
    throw_bad_input("--momentum must be in [0, 1), got {}", p.momentum);
  if (o.dataset != "fashion-mnist")
    throw_bad_input(
        "--dataset: fine-tuning trains on a labelled image set; known: fashion-mnist "
        "(got '{}')",
        o.dataset);
  check_output_target(o.output_path);
  if (!o.checkpoint_path.empty()) check_output_target(o.checkpoint_path);
}

// A permutation of [0, n) for `epoch`: Fisher-Yates driven by a counter-based stream, so the
// order depends on (seed, epoch) alone.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  RngStream stream(seed, static_cast<uint64_t>(epoch), "", "finetune-shuffle");
  for (int64_t i = n - 1; i > 0; --i) {
    auto j =
        static_cast<int64_t>(stream.uniform(static_cast<uint64_t>(i)) * static_cast<double>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(std::min(j, i))]);
  }
  return order;
}

class Trainer {
 public:
  Trainer(const FinetuneOptions& options, const FinetuneCallbacks& callbacks)
      : o_(options), cb_(callbacks) {}
  FinetuneResult run();

 private:
  void load();
  void resume(FinetuneResult& result);
  void save_checkpoint(int64_t epochs_done) const;
  nlohmann::json determining_options() const;
  EpochReport run_epoch(int64_t epoch, int64_t total_steps);
  LossValue train_step(const Tensor& images, const Tensor& labels, int64_t step,
                       std::map<const ir::Value*, Tensor>& grads);
  Tensor forward(const Tensor& images, int64_t step, ForwardRecord& record);
  void add_weight_noise(int64_t step);
  void restore_weights();
  void note(const std::string& text) const {
    if (cb_.note) cb_.note(text);
  }

  const FinetuneOptions& o_;
  const FinetuneCallbacks& cb_;
  std::unique_ptr<ir::Graph> graph_, teacher_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<Parameter> parameters_;
  std::vector<std::string> frozen_;
  std::vector<Tensor> clean_;  // weights without the weight-noise modifier
  data::LabelledImages train_;
  Tensor calibration_;
  int64_t samples_ = 0;
  int64_t start_epoch_ = 0;
};

void Trainer::load() {
  graph_ = api::load_model(o_.model_path);
  if (graph_->inputs.size() != 1 || graph_->outputs.size() != 1)
    throw_bad_input(
        "{}: fine-tuning needs a model with one input and one output (logits), this "
        "one has {} and {}",
        o_.model_path, graph_->inputs.size(), graph_->outputs.size());
  ParameterSet set = find_parameters(*graph_, frontend::onnx_weight_names(o_.model_path));
  if (set.trained.empty())
    throw_bad_input("{}: no weight of the model can be trained and written back", o_.model_path);
  std::set<const ir::Value*> wanted;
  for (const Parameter& p : set.trained) wanted.insert(p.value);
  try {
    check_differentiable(*graph_, wanted);
  } catch (const Error& e) {
    rethrow_with_context(e, o_.model_path);
  }
  parameters_ = set.trained;
  frozen_ = set.frozen;
  for (const std::string& why : frozen_) note("not trained: " + why);
  if (o_.distill > 0) teacher_ = api::load_model(o_.model_path);
  optimizer_ = std::make_unique<Optimizer>(o_.optimizer, parameters_);
  train_ =
      data::load_fashion_mnist(o_.data_dir.empty() ? data::kFashionMnistDir : o_.data_dir, "train");
  const auto available = static_cast<int64_t>(train_.labels.size());
  samples_ = o_.limit < 0 ? available : std::min(o_.limit, available);
  const int64_t calibration_n = o_.arch ? std::min(o_.arch->calibration_samples, available) : 0;
  if (calibration_n > 0) calibration_ = data::fashion_mnist_batch(train_, 0, calibration_n);
}

Tensor gather_images(const data::LabelledImages& set, const std::vector<int64_t>& order,
                     int64_t begin, int64_t end, Tensor& labels) {
  Tensor images(DType::kF32, {end - begin, 1, 28, 28});
  labels = Tensor(DType::kI64, {end - begin});
  for (int64_t i = begin; i < end; ++i) {
    const int64_t index = order[static_cast<size_t>(i)];
    Tensor one = data::fashion_mnist_batch(set, index, index + 1);
    std::copy_n(one.data<float>(), 784, images.data<float>() + (i - begin) * 784);
    labels.data<int64_t>()[i - begin] = set.labels[static_cast<size_t>(index)];
  }
  return images;
}

Tensor Trainer::forward(const Tensor& images, int64_t step, ForwardRecord& record) {
  record.clear();
  const ir::Value* input = graph_->inputs[0];
  record.set(input, images);
  auto observer = [&](const ir::Node& node, const std::vector<Tensor>& outputs) {
    for (size_t i = 0; i < node.outputs.size() && i < outputs.size(); ++i) {
      if (node.outputs[i]) record.set(node.outputs[i], outputs[i]);
    }
  };
  std::map<std::string, Tensor> inputs = {{input->name, images}};
  std::map<std::string, Tensor> outputs;
  if (o_.arch) {
    analog::AnalogModel chip(*graph_, *o_.arch, o_.seed,
                             kFirstTrainingTrial + static_cast<uint64_t>(step));
    chip.calibrate({{input->name, calibration_}});
    outputs = chip.run(inputs, step * o_.batch, nullptr, observer);
  } else {
    outputs = runtime::Executor(*graph_).run(inputs, observer);
  }
  return outputs.at(graph_->outputs[0]->name);
}

void Trainer::add_weight_noise(int64_t step) {
  clean_.clear();
  for (const Parameter& p : parameters_) clean_.push_back(p.value->constant);
  if (o_.weight_noise <= 0) return;
  for (const Parameter& p : parameters_) {
    if (!p.decay) continue;
    Tensor noisy = p.value->constant.clone();
    float* w = noisy.data<float>();
    float max = 0.0f;
    for (int64_t i = 0; i < noisy.numel(); ++i) max = std::max(max, std::abs(w[i]));
    RngStream stream(o_.seed, static_cast<uint64_t>(step), p.value->name, "finetune-weight-noise");
    const double sigma = o_.weight_noise * max;
    for (int64_t i = 0; i < noisy.numel(); ++i)
      w[i] = static_cast<float>(w[i] + sigma * stream.normal(static_cast<uint64_t>(i)));
    p.value->constant = noisy;
  }
}

void Trainer::restore_weights() {
  for (size_t k = 0; k < parameters_.size(); ++k) parameters_[k].value->constant = clean_[k];
}

LossValue Trainer::train_step(const Tensor& images, const Tensor& labels, int64_t step,
                              std::map<const ir::Value*, Tensor>& grads) {
  add_weight_noise(step);
  ForwardRecord record;
  Tensor logits = forward(images, step, record);
  LossValue loss;
  try {
    loss = cross_entropy(logits, labels);
  } catch (const Error& e) {
    rethrow_with_context(e, o_.model_path);
  }
  if (teacher_) {
    const ir::Value* input = teacher_->inputs[0];
    Tensor teacher =
        runtime::Executor(*teacher_).run({{input->name, images}}).at(teacher_->outputs[0]->name);
    LossValue kd = distillation(logits, teacher, o_.temperature);
    float* g = loss.grad.data<float>();
    const float* k = kd.grad.data<float>();
    for (int64_t i = 0; i < loss.grad.numel(); ++i)
      g[i] = static_cast<float>((1.0 - o_.distill) * g[i] + o_.distill * k[i]);
    loss.loss = (1.0 - o_.distill) * loss.loss + o_.distill * kd.loss;
  }
  std::set<const ir::Value*> wanted;
  for (const Parameter& p : parameters_) wanted.insert(p.value);
  grads = backward(*graph_, record, {{graph_->outputs[0], loss.grad}}, wanted);
  restore_weights();
  return loss;
}

EpochReport Trainer::run_epoch(int64_t epoch, int64_t total_steps) {
  auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> order =
      epoch_order(static_cast<int64_t>(train_.labels.size()), o_.seed, epoch);
  order.resize(static_cast<size_t>(samples_));
  EpochReport report;
  report.epoch = epoch + 1;
  double loss_sum = 0.0, norm_sum = 0.0;
  int64_t correct = 0, batches = 0;
  for (int64_t begin = 0; begin < samples_; begin += o_.batch) {
    const int64_t end = std::min(samples_, begin + o_.batch);
    Tensor labels;
    Tensor images = gather_images(train_, order, begin, end, labels);
    const int64_t step = optimizer_->steps();
    std::map<const ir::Value*, Tensor> grads;
    LossValue loss = train_step(images, labels, step, grads);
    if (!std::isfinite(loss.loss))
      throw Error(ErrorKind::kRuntime,
                  fmt::format("{}: the training loss became {} at step {} (epoch {}); lower --lr "
                              "or set --clip-grad-norm",
                              o_.model_path, loss.loss, step, epoch + 1));
    report.lr = learning_rate(o_.schedule, o_.lr, step, total_steps, o_.warmup);
    norm_sum += optimizer_->step(grads, report.lr);
    loss_sum += loss.loss * static_cast<double>(end - begin);
    correct += loss.correct;
    ++batches;
    if (cb_.progress) cb_.progress(end, samples_);
  }
  report.steps = optimizer_->steps();
  report.samples = samples_;
  report.loss = loss_sum / static_cast<double>(samples_);
  report.accuracy = static_cast<double>(correct) / static_cast<double>(samples_);
  report.grad_norm = norm_sum / static_cast<double>(std::max<int64_t>(1, batches));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

nlohmann::json Trainer::determining_options() const {
  return {{"batch", o_.batch},
          {"limit", samples_},
          {"seed", o_.seed},
          {"lr", o_.lr},
          {"schedule", schedule_name(o_.schedule)},
          {"warmup", o_.warmup},
          {"optimizer", optimizer_name(o_.optimizer.kind)},
          {"weight_decay", o_.optimizer.weight_decay},
          {"weight_noise", o_.weight_noise},
          {"distill", o_.distill},
          {"arch", o_.arch ? o_.arch->name : std::string("digital")}};
}

void Trainer::save_checkpoint(int64_t epochs_done) const {
  Checkpoint c;
  c.model_hash = file_hash(o_.model_path);
  c.epochs_done = epochs_done;
  c.steps = optimizer_->steps();
  c.options = determining_options();
  c.options["epochs"] = o_.epochs;
  for (const Parameter& p : parameters_) c.tensors["value/" + p.value->name] = p.value->constant;
  const std::vector<Tensor>& moments = optimizer_->moments();
  for (size_t k = 0; k < moments.size(); ++k)
    c.tensors[fmt::format("moment/{:06d}", k)] = moments[k];
  write_checkpoint(o_.checkpoint_path, c);
}

void Trainer::resume(FinetuneResult& result) {
  Checkpoint c = read_checkpoint(o_.resume_path);
  if (c.model_hash != file_hash(o_.model_path))
    throw_bad_input("--resume {}: the checkpoint was written for another model than {}",
                    o_.resume_path, o_.model_path);
  nlohmann::json now = determining_options();
  for (const auto& [key, value] : now.items()) {
    if (!c.options.contains(key) || c.options[key] != value)
      throw_bad_input("--resume {}: the checkpoint was trained with {} = {}, this run has {}",
                      o_.resume_path, key, c.options.value(key, nlohmann::json()).dump(),
                      value.dump());
  }
  if (c.options.value("epochs", int64_t{0}) != o_.epochs)
    throw_bad_input("--resume {}: the checkpoint's schedule is for --epochs {}, this run has {}",
                    o_.resume_path, c.options.value("epochs", int64_t{0}), o_.epochs);
  for (const Parameter& p : parameters_) {
    auto it = c.tensors.find("value/" + p.value->name);
    if (it == c.tensors.end() || it->second.shape() != p.value->constant.shape())
      throw_bad_input("--resume {}: no weight '{}' {} in the checkpoint", o_.resume_path,
                      p.value->name, shape_str(p.value->constant.shape()));
    p.value->constant = it->second;
  }
  std::vector<Tensor>& moments = optimizer_->moments();
  for (size_t k = 0; k < moments.size(); ++k) {
    auto it = c.tensors.find(fmt::format("moment/{:06d}", k));
    if (it == c.tensors.end() || it->second.shape() != moments[k].shape())
      throw_bad_input("--resume {}: optimiser state {} is missing or has the wrong shape",
                      o_.resume_path, k);
    moments[k] = it->second.clone();
  }
  optimizer_->set_steps(c.steps);
  start_epoch_ = c.epochs_done;
  result.start_epoch = start_epoch_;
}

FinetuneResult Trainer::run() {
  validate(o_);
  load();
  FinetuneResult result;
  result.frozen = frozen_;
  for (const Parameter& p : parameters_) {
    ++result.trained_tensors;
    result.trained_elements += p.value->constant.numel();
  }
  if (!o_.resume_path.empty()) resume(result);
  const int64_t steps_per_epoch = (samples_ + o_.batch - 1) / o_.batch;
  for (int64_t epoch = start_epoch_; epoch < o_.epochs; ++epoch) {
    EpochReport report = run_epoch(epoch, steps_per_epoch * o_.epochs);
    result.epochs.push_back(report);
    if (!o_.checkpoint_path.empty()) save_checkpoint(epoch + 1);
    if (cb_.epoch_done) cb_.epoch_done(report);
  }
  frontend::write_onnx_with_weights(o_.model_path, initializer_values(parameters_), o_.output_path);
  return result;
}

}  // namespace

FinetuneResult finetune(const FinetuneOptions& options, const FinetuneCallbacks& callbacks) {
  return Trainer(options, callbacks).run();
}

}  // namespace aimc::train
