// Simulated events per second of the cycle-level simulator (sim/simulator.h) on the compiled
// programs of the bundled ViT (race.yaml, isaac.yaml) and, when given, any other model (e.g.
// the BERT-base of bench/make_bert_onnx.py), one thread. The baseline, measured in the same
// run, is a bare binary-heap event loop (push one event, pop one), the floor of any
// event-driven simulator's cost per event: the ratio says how much work each event adds.
// Usage: sim_bench [MODEL.onnx ARCH.yaml CHIPS BATCH] (that model only)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "aimc/api/estimate.h"
#include "aimc/api/model.h"
#include "aimc/compiler/codegen.h"
#include "aimc/sim/simulator.h"

namespace {

template <typename Body>
double seconds_per_call(const Body& body) {
  body();  // warm-up
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  do {
    body();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < 1.0 || calls < 3);
  return elapsed / calls;
}

// Events per second of a heap of `live` pending events, each pop pushing one later event.
double heap_rate(int64_t live) {
  using Event = std::pair<int64_t, uint64_t>;
  const int64_t n = 4'000'000;
  volatile int64_t sink = 0;
  const double s = seconds_per_call([&] {
    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue;
    uint64_t seq = 0;
    for (int64_t i = 0; i < live; ++i) queue.push({i * 7 % 1000, seq++});
    for (int64_t i = 0; i < n; ++i) {
      const Event e = queue.top();
      queue.pop();
      const int64_t delay = 100 + static_cast<int64_t>(seq % 37);
      queue.push({e.first + delay, seq});
      ++seq;
    }
    sink = sink + queue.top().first;
  });
  return static_cast<double>(n) / s;
}

void run(const std::string& model, const std::string& arch_path, int64_t chips, int64_t batch,
         double baseline) {
  const aimc::arch::Architecture arch = aimc::arch::load_architecture(arch_path);
  std::unique_ptr<aimc::ir::Graph> graph = aimc::api::load_model_for_one_inference(model);
  const aimc::api::CompileResult compiled = aimc::api::compile(*graph, arch, chips, true);
  aimc::sim::SimOptions options;
  options.batch = batch;
  aimc::sim::SimResult result;
  const double s =
      seconds_per_call([&] { result = aimc::sim::simulate(compiled.programs, arch, options); });
  const double rate = static_cast<double>(result.events) / s;
  std::printf(
      "%-28s %-8s batch %-4lld %9lld events %9lld instructions: %7.2f M events/s, "
      "%5.2fx the bare heap's cost per event\n",
      model.substr(model.find_last_of('/') + 1).c_str(), arch.name.c_str(),
      static_cast<long long>(batch), static_cast<long long>(result.events),
      static_cast<long long>(result.instructions), rate / 1e6, baseline / rate);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string source = AIMC_SOURCE_DIR;
  const double baseline = heap_rate(256);
  std::printf("bare heap event loop (256 pending): %.1f M events/s\n", baseline / 1e6);
  if (argc == 5) {
    run(argv[1], argv[2], std::atoll(argv[3]), std::atoll(argv[4]), baseline);
    return 0;
  }
  run(source + "/models/vit-fmnist.onnx", source + "/presets/race.yaml", 1, 64, baseline);
  run(source + "/models/vit-fmnist.onnx", source + "/presets/isaac.yaml", 1, 64, baseline);
  run(source + "/models/cnn-fmnist.onnx", source + "/presets/isaac.yaml", 1, 16, baseline);
  return 0;
}
