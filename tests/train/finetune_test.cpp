// Fine-tuning end to end on the bundled MLP (the fastest model): write-back, determinism
// across thread counts, resume after an interruption, and bad options.
#include <gtest/gtest.h>

#include <filesystem>

#include "aimc/api/model.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_writeback.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/threads.h"
#include "aimc/train/finetune.h"
#include "aimc/train/parameters.h"

namespace aimc::train {
namespace {

namespace fs = std::filesystem;
const std::string kSource = AIMC_SOURCE_DIR;
const std::string kMlp = kSource + "/models/mlp-fmnist.onnx";

fs::path temp_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("aimc-train-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool fashion_mnist_installed() {
  return fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") ||
         fs::exists("/usr/share/datasets/fashion-mnist");
}

Tensor logits(const std::string& model) {
  std::unique_ptr<ir::Graph> graph = api::load_model(model);
  Tensor input =
      read_npy(kSource + "/models/" + fs::path(model).stem().string() + ".ref-input.npy");
  return runtime::Executor(*graph)
      .run({{graph->inputs[0]->name, input}})
      .at(graph->outputs[0]->name);
}

// Writing the weights back unchanged reproduces the model: for the MLP (Gemm, weights
// transposed into the canonical linear), the CNN and the ViT.
TEST(WriteBack, UnchangedWeightsGiveTheSameModel) {
  fs::path dir = temp_dir("writeback");
  for (const char* name : {"mlp-fmnist", "cnn-fmnist", "vit-fmnist"}) {
    const std::string model = kSource + "/models/" + name + ".onnx";
    std::unique_ptr<ir::Graph> graph = api::load_model(model);
    ParameterSet set = find_parameters(*graph, frontend::onnx_weight_names(model));
    ASSERT_FALSE(set.trained.empty()) << name;
    const std::string out = (dir / (std::string(name) + ".onnx")).string();
    frontend::write_onnx_with_weights(model, initializer_values(set.trained), out);
    Tensor a = logits(model);
    std::unique_ptr<ir::Graph> reloaded = api::load_model(out);
    Tensor b = runtime::Executor(*reloaded)
                   .run({{reloaded->inputs[0]->name,
                          read_npy(kSource + "/models/" + name + ".ref-input.npy")}})
                   .at(reloaded->outputs[0]->name);
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.numel(); ++i)
      EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5) << name << " logit " << i;
  }
  fs::remove_all(dir);
}

// A changed weight reaches the file: doubling every trained weight of the MLP changes its
// logits, and the reloaded canonical weights are the doubled ones.
TEST(WriteBack, TrainedValuesReachTheFile) {
  fs::path dir = temp_dir("writeback2");
  std::unique_ptr<ir::Graph> graph = api::load_model(kMlp);
  ParameterSet set = find_parameters(*graph, frontend::onnx_weight_names(kMlp));
  for (Parameter& p : set.trained) {
    Tensor doubled = p.value->constant.clone();
    for (int64_t i = 0; i < doubled.numel(); ++i) doubled.data<float>()[i] *= 2.0f;
    p.value->constant = doubled;
  }
  const std::string out = (dir / "doubled.onnx").string();
  frontend::write_onnx_with_weights(kMlp, initializer_values(set.trained), out);
  std::unique_ptr<ir::Graph> reloaded = api::load_model(out);
  int64_t compared = 0;
  for (const Parameter& p : set.trained) {
    const ir::Value* again = reloaded->find_value(p.value->name);
    ASSERT_NE(again, nullptr) << p.value->name;
    ASSERT_EQ(again->constant.shape(), p.value->constant.shape());
    for (int64_t i = 0; i < again->constant.numel(); ++i)
      ASSERT_EQ(again->constant.data<float>()[i], p.value->constant.data<float>()[i])
          << p.value->name;
    ++compared;
  }
  EXPECT_EQ(compared, 6);
  fs::remove_all(dir);
}

FinetuneOptions mlp_options(const fs::path& dir) {
  FinetuneOptions o;
  o.model_path = kMlp;
  o.output_path = (dir / "out.onnx").string();
  o.arch = arch::load_architecture(kSource + "/presets/race.yaml", {});
  o.epochs = 2;
  o.batch = 32;
  o.limit = 96;
  o.lr = 1e-3;
  o.seed = 5;
  return o;
}

TEST(Finetune, SameSeedSameModelForAnyThreadCountAndAfterResume) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  fs::path dir = temp_dir("determinism");
  FinetuneOptions o = mlp_options(dir);
  runtime::set_threads(1);
  FinetuneResult one = finetune(o);
  ASSERT_EQ(one.epochs.size(), 2u);
  const std::string reference = read_file_bytes(o.output_path);
  EXPECT_NE(reference, read_file_bytes(kMlp));  // the weights did change

  runtime::set_threads(2);
  finetune(o);
  EXPECT_EQ(read_file_bytes(o.output_path), reference) << "threads changed the result";

  // Interrupted after the first epoch: no output, a checkpoint; resuming finishes the same run.
  fs::remove(o.output_path);
  o.checkpoint_path = (dir / "run.ckpt").string();
  FinetuneCallbacks interrupt;
  interrupt.epoch_done = [](const EpochReport&) {
    throw Error(ErrorKind::kRuntime, "interrupted");
  };
  EXPECT_THROW(finetune(o, interrupt), Error);
  EXPECT_FALSE(fs::exists(o.output_path));
  ASSERT_TRUE(fs::exists(o.checkpoint_path));
  o.resume_path = o.checkpoint_path;
  FinetuneResult resumed = finetune(o);
  EXPECT_EQ(resumed.start_epoch, 1);
  EXPECT_EQ(resumed.epochs.size(), 1u);
  EXPECT_EQ(read_file_bytes(o.output_path), reference) << "resume changed the result";
  EXPECT_DOUBLE_EQ(resumed.epochs[0].loss, one.epochs[1].loss);
  runtime::set_threads(0);
  fs::remove_all(dir);
}

TEST(Finetune, ResumeRefusesAnotherRunsCheckpoint) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  fs::path dir = temp_dir("resume");
  FinetuneOptions o = mlp_options(dir);
  o.epochs = 1;
  o.checkpoint_path = (dir / "run.ckpt").string();
  finetune(o);
  o.resume_path = o.checkpoint_path;
  o.checkpoint_path.clear();
  o.lr = 2e-3;
  try {
    finetune(o);
    FAIL() << "a different --lr must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("lr"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Finetune, LossFallsOnTheTrainingBatches) {
  if (!fashion_mnist_installed()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  fs::path dir = temp_dir("loss");
  FinetuneOptions o = mlp_options(dir);
  o.arch = arch::load_architecture(kSource + "/presets/race.yaml", {"adc.bits=5"});
  o.epochs = 4;
  o.limit = 64;
  o.batch = 64;  // the same 64 samples every epoch: the loss on them must fall
  o.schedule = Schedule::kConstant;
  FinetuneResult r = finetune(o);
  EXPECT_LT(r.epochs.back().loss, r.epochs.front().loss);
  fs::remove_all(dir);
}

TEST(Finetune, BadOptionsAreNamed) {
  fs::path dir = temp_dir("bad");
  auto expect_bad = [&](FinetuneOptions o, const std::string& needle) {
    try {
      finetune(o);
      FAIL() << "accepted: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(o.output_path));
  };
  FinetuneOptions o = mlp_options(dir);
  o.lr = 0;
  expect_bad(o, "--lr");
  o = mlp_options(dir);
  o.lr = -1;
  expect_bad(o, "--lr");
  o = mlp_options(dir);
  o.dataset = "fortunes";
  expect_bad(o, "--dataset");
  o = mlp_options(dir);
  o.distill = 1.5;
  expect_bad(o, "--distill");
  o = mlp_options(dir);
  o.data_dir = (dir / "no-such-dir").string();
  expect_bad(o, "no-such-dir");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aimc::train
