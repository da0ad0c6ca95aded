// Times one training step (forward with the record, cross-entropy, backward, AdamW update)
// of a model on the first B Fashion-MNIST training images, digitally or on a chip instance
// of an architecture, and prints the median over the steps as one JSON line. The baseline it
// is compared with (PyTorch's step) runs in bench/train_step_vs_pytorch.py.
//
//   aimc_train_step_bench MODEL.onnx BATCH STEPS THREADS [ARCH.yaml]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "aimc/analog/executor.h"
#include "aimc/api/model.h"
#include "aimc/arch/architecture.h"
#include "aimc/data/fashion_mnist.h"
#include "aimc/frontend/onnx_writeback.h"
#include "aimc/runtime/threads.h"
#include "aimc/train/autodiff.h"
#include "aimc/train/loss.h"
#include "aimc/train/optimizer.h"

using namespace aimc;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s MODEL.onnx BATCH STEPS THREADS [ARCH.yaml]\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1];
  const int64_t batch = std::stoll(argv[2]), steps = std::stoll(argv[3]);
  runtime::set_threads(std::stoi(argv[4]));
  std::optional<arch::Architecture> chip;
  if (argc > 5) chip = arch::load_architecture(argv[5], {});
  std::unique_ptr<ir::Graph> graph = api::load_model(model);
  train::ParameterSet set = train::find_parameters(*graph, frontend::onnx_weight_names(model));
  train::Optimizer adam({}, set.trained);
  std::set<const ir::Value*> wanted;
  for (const auto& p : set.trained) wanted.insert(p.value);
  data::LabelledImages images = data::load_fashion_mnist(data::kFashionMnistDir, "train");
  Tensor x = data::fashion_mnist_batch(images, 0, batch);
  Tensor labels(DType::kI64, {batch});
  for (int64_t i = 0; i < batch; ++i)
    labels.data<int64_t>()[i] = images.labels[static_cast<size_t>(i)];
  const std::string input = graph->inputs[0]->name;
  std::vector<double> times;
  for (int64_t s = 0; s < steps; ++s) {
    auto start = std::chrono::steady_clock::now();
    train::ForwardRecord record;
    Tensor logits;
    if (chip) {
      record.set(graph->inputs[0], x);
      analog::AnalogModel analog(*graph, *chip, 0, static_cast<uint64_t>(s));
      analog.calibrate({{input, x}});
      logits = analog
                   .run({{input, x}}, 0, nullptr,
                        [&](const ir::Node& node, const std::vector<Tensor>& outs) {
                          for (size_t i = 0; i < node.outputs.size(); ++i)
                            if (node.outputs[i]) record.set(node.outputs[i], outs[i]);
                        })
                   .at(graph->outputs[0]->name);
    } else {
      logits = train::forward_recorded(*graph, {{input, x}}, record).at(graph->outputs[0]->name);
    }
    train::LossValue loss = train::cross_entropy(logits, labels);
    auto grads = train::backward(*graph, record, {{graph->outputs[0], loss.grad}}, wanted);
    adam.step(grads, 1e-4);
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  std::printf("{\"median_s\": %.6g, \"min_s\": %.6g, \"steps\": %lld}\n", times[times.size() / 2],
              times.front(), static_cast<long long>(steps));
  return 0;
}
