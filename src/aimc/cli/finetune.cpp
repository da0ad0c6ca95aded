// aimc finetune MODEL.onnx --arch A.yaml --dataset fashion-mnist -o OUT.onnx [--epochs E]
//     [--lr LR] [--batch B] [--seed S] [--limit N] [--optimizer adamw|sgd]
//     [--schedule cosine|one-cycle|constant] [--checkpoint CKPT] [--resume CKPT] [--log FILE]
//     [--set key=value ...] [--json]
#include <fmt/format.h>

#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "aimc/arch/architecture.h"
#include "aimc/cli/commands.h"
#include "aimc/core/npy.h"
#include "aimc/core/progress.h"
#include "aimc/train/finetune.h"

namespace aimc::cli {

namespace {

struct FinetuneCliOptions {
  train::FinetuneOptions train;
  std::string arch;
  std::vector<std::string> overrides;
  std::string optimizer = "adamw";
  std::string schedule = "cosine";
  std::string log_path;
  bool json = false;
};

nlohmann::json epoch_json(const train::EpochReport& e) {
  return {{"epoch", e.epoch},         {"steps", e.steps},       {"samples", e.samples},
          {"loss", e.loss},           {"accuracy", e.accuracy}, {"lr", e.lr},
          {"grad_norm", e.grad_norm}, {"seconds", e.seconds}};
}

int run_finetune(FinetuneCliOptions& options, const GlobalOptions& global) {
  train::FinetuneOptions& o = options.train;
  o.arch = arch::load_architecture(options.arch, options.overrides);
  o.optimizer.kind =
      options.optimizer == "sgd" ? train::OptimizerKind::kSgd : train::OptimizerKind::kAdamW;
  o.schedule = options.schedule == "one-cycle"  ? train::Schedule::kOneCycle
               : options.schedule == "constant" ? train::Schedule::kConstant
                                                : train::Schedule::kCosine;
  if (!options.log_path.empty()) check_output_target(options.log_path);
  std::string log;  // JSON lines, rewritten whole after each epoch (atomically)
  std::optional<ProgressBar> bar;
  int64_t epoch_shown = 0;
  train::FinetuneCallbacks callbacks;
  callbacks.progress = [&](int64_t done, int64_t total) {
    if (!bar)
      bar.emplace(fmt::format("epoch {}/{}", epoch_shown + 1, o.epochs), total, !options.json);
    bar->update(done);
  };
  callbacks.epoch_done = [&](const train::EpochReport& e) {
    bar.reset();
    epoch_shown = e.epoch;
    log += epoch_json(e).dump() + "\n";
    if (!options.log_path.empty()) write_file_atomic(options.log_path, log);
    if (!options.json || global.verbose)
      std::fprintf(stderr,
                   "epoch %lld/%lld  loss %.4f  train accuracy %.2f %% (analog forward)  lr %.3g  "
                   "%.1f s\n",
                   static_cast<long long>(e.epoch), static_cast<long long>(o.epochs), e.loss,
                   100.0 * e.accuracy, e.lr, e.seconds);
  };
  callbacks.note = [&](const std::string& text) {
    if (global.verbose) std::fprintf(stderr, "aimc: %s\n", text.c_str());
  };
  train::FinetuneResult r = train::finetune(o, callbacks);
  bar.reset();
  if (options.json) {
    nlohmann::json epochs = nlohmann::json::array();
    for (const auto& e : r.epochs) epochs.push_back(epoch_json(e));
    std::cout << nlohmann::json{{"model", o.model_path},
                                {"output", o.output_path},
                                {"arch", o.arch->name},
                                {"dataset", o.dataset},
                                {"trained_tensors", r.trained_tensors},
                                {"trained_parameters", r.trained_elements},
                                {"frozen", r.frozen},
                                {"resumed_after_epoch", r.start_epoch},
                                {"epochs", epochs}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << fmt::format("model    {} ({} weight tensors, {} parameters trained)\n", o.model_path,
                           r.trained_tensors, r.trained_elements)
            << fmt::format("trained  on {} ({} chip instance per batch), {} epoch{}{}\n",
                           o.arch->name, "a fresh", o.epochs, o.epochs == 1 ? "" : "s",
                           r.start_epoch ? fmt::format(" (resumed after {})", r.start_epoch) : "")
            << fmt::format("wrote    {}\n", o.output_path)
            << fmt::format("next     aimc eval {} --dataset {} --arch {} --trials 10\n",
                           o.output_path, o.dataset, options.arch);
  return 0;
}

}  // namespace

Command add_finetune_command(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<FinetuneCliOptions>();
  train::FinetuneOptions& o = options->train;
  const auto positive = CLI::Range(int64_t{1}, std::numeric_limits<int64_t>::max());
  app.add_option("model", o.model_path, "ONNX model (.onnx)")->required();
  app.add_option("--arch,-a", options->arch, "architecture YAML of the chip to train for")
      ->required();
  app.add_option("--dataset,-d", o.dataset, "training data: fashion-mnist (its training split)")
      ->required();
  app.add_option("--output,-o", o.output_path, "the fine-tuned ONNX model to write")->required();
  app.add_option("--epochs,-e", o.epochs, "passes over the training samples (default 1)")
      ->check(positive);
  app.add_option("--lr", o.lr, "peak learning rate (default 1e-4)");
  app.add_option("--batch,-b", o.batch, "samples per step (default 32)")->check(positive);
  app.add_option("--limit,-n", o.limit, "train on N samples per epoch (default: all 60,000)")
      ->check(positive);
  app.add_option("--seed,-s", o.seed, "seed of the data order and the training chips (default 0)")
      ->check(seed_in_range());
  app.add_option("--optimizer", options->optimizer, "adamw (default) or sgd (with momentum)")
      ->check(CLI::IsMember({"adamw", "sgd"}));
  app.add_option("--schedule", options->schedule, "cosine (default), one-cycle or constant")
      ->check(CLI::IsMember({"cosine", "one-cycle", "constant"}));
  app.add_option("--warmup", o.warmup, "linear warm-up steps (cosine, constant; default 0)");
  app.add_option("--momentum", o.optimizer.momentum, "SGD momentum (default 0.9)");
  app.add_option("--weight-decay", o.optimizer.weight_decay,
                 "decoupled weight decay on weight matrices and kernels (default 0)");
  app.add_option("--clip-grad-norm", o.optimizer.clip_grad_norm,
                 "clip the global gradient norm to this (default 0: off)");
  app.add_option(
      "--clip-weights", o.optimizer.clip_weight_sigma,
      "clamp each weight tensor to ±K standard deviations after every step (default 0: off)");
  app.add_option("--weight-noise", o.weight_noise,
                 "extra Gaussian weight noise in training, σ = K·max|W| (default 0)");
  app.add_option("--distill", o.distill,
                 "weight in [0, 1] of distillation from the original (digital) model (default 0)");
  app.add_option("--temperature", o.temperature, "distillation temperature (default 2)");
  app.add_option("--data-dir", o.data_dir, "folder holding the data set's files");
  app.add_option("--checkpoint", o.checkpoint_path, "write a checkpoint here after every epoch");
  app.add_option("--resume", o.resume_path, "continue from a checkpoint of the same run");
  app.add_option("--log", options->log_path, "per-epoch log, one JSON object per line");
  app.add_option("--set", options->overrides,
                 "override an architecture key: key.path=value (repeatable)");
  app.add_flag("--json", options->json, "machine-readable summary on stdout");
  return [options, &global] { return run_finetune(*options, global); };
}

}  // namespace aimc::cli
