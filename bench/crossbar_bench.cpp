// Simulated MAC/s of the crossbar engine against plain cblas_sgemm on the same shapes, in the
// same run: one-shot mode (dac_bits = in_bits - 1, one slice) and bit-serial ISAAC-like mode
// (1-bit DAC, 2-bit cells, 8-bit operands). The engine's fair target is sgemm's rate divided
// by its partial products (phases x steps x slices), as it computes every read.
// Then presets/race.yaml's crossbar (1-bit DAC, 2-bit cells, 10-bit ADC) with its device
// noise in both read-noise modes, and the rate of RngStream::fill_fast_normal against sgemm's
// MAC rate (exact mode draws one normal per read of every column).
// Usage: crossbar_bench [threads]
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "aimc/analog/crossbar.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"

namespace {

using aimc::DType;
using aimc::Tensor;

Tensor random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  Tensor t(DType::kF32, {rows, cols});
  aimc::RngStream stream(seed, 0, "bench", "matrix");
  for (int64_t i = 0; i < rows * cols; ++i) t.data<float>()[i] = float(stream.normal(i));
  return t;
}

template <typename Body>
double seconds_per_call(const Body& body) {
  body();  // warm-up
  int calls = 0;
  auto start = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  do {
    body();
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (elapsed < 1.0);
  return elapsed / calls;
}

// sgemm tiled over M like the engine, one single-threaded call per tile, on our pool.
double sgemm_seconds(const Tensor& x, const Tensor& w) {
  const int64_t M = x.dim(0), K = x.dim(1), N = w.dim(1);
  std::vector<float> y(M * N);
  constexpr int64_t kTile = 256;
  return seconds_per_call([&] {
    aimc::parallel_for(0, (M + kTile - 1) / kTile, 1, [&](int64_t t) {
      const int64_t m0 = t * kTile, rows = std::min(kTile, M - m0);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(N), int(K), 1.0f,
                  x.data<float>() + m0 * K, int(K), w.data<float>(), int(N), 0.0f,
                  y.data() + m0 * N, int(N));
    });
  });
}

struct Mode {
  const char* name;
  int dac_bits, cell_bits, adc_bits;
  const char* adc;
  bool allow_merge;
};

aimc::arch::ModelConfig model(const char* name, double sigma) {
  aimc::arch::ModelConfig config;
  config.model = name;
  config.params["sigma"] = sigma;
  return config;
}

// presets/race.yaml's crossbar: programming noise 0.02, proportional read noise 0.01.
aimc::arch::Architecture race_like(aimc::arch::ReadNoiseMode mode, bool read_noise) {
  aimc::arch::Architecture a;
  a.input.dac_bits = 1;
  a.array.cell_bits = 2;
  a.adc.bits = 10;
  a.adc.model.model = "uniform";
  a.array.g_min = 1e-6;
  a.array.g_max = 1e-4;
  a.device.programming = model("constant", 0.02);
  if (read_noise) a.device.read = model("proportional", 0.01);
  a.device.read_mode = mode;
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  aimc::set_num_threads(argc > 1 ? std::atoi(argv[1]) : 1);
  openblas_set_num_threads(1);
  struct Shape {
    int64_t M, K, N;
  };
  const Mode modes[] = {
      {"one-shot, ideal ADC (reads merged)", 7, 8, 8, "ideal", true},
      {"one-shot, 8-bit ADC", 7, 8, 8, "uniform", true},
      {"bit-serial ISAAC-like, 8-bit ADC", 1, 2, 8, "uniform", true},
  };
  std::printf("threads: %d\n", aimc::num_threads());
  for (Shape shape : {Shape{1024, 512, 512}, Shape{1700, 64, 192}}) {
    Tensor x = random_matrix(shape.M, shape.K, 1), w = random_matrix(shape.K, shape.N, 2);
    const double macs = double(shape.M) * shape.K * shape.N;
    const double sgemm_rate = macs / sgemm_seconds(x, w);
    std::printf("M=%ld K=%ld N=%ld: sgemm %.2f GMAC/s\n", long(shape.M), long(shape.K),
                long(shape.N), sgemm_rate * 1e-9);
    for (const Mode& mode : modes) {
      aimc::arch::Architecture a;
      a.input.dac_bits = mode.dac_bits;
      a.array.cell_bits = mode.cell_bits;
      a.adc.bits = mode.adc_bits;
      a.adc.model.model = mode.adc;
      aimc::analog::CrossbarLayer layer(a, w, Tensor(), {1, 0, "bench"});
      if (!mode.allow_merge) layer.disable_read_merging();
      const double rate = macs / seconds_per_call([&] { layer.forward(x, 0); });
      const int partial_products =
          layer.reads_merged()
              ? 1
              : 2 * ((7 + mode.dac_bits - 1) / mode.dac_bits) * int(layer.stats().slices);
      std::printf("  %-38s %.3f GMAC/s  ratio %.3f  partial products %2d  ratio x pp %.3f\n",
                  mode.name, rate * 1e-9, rate / sgemm_rate, partial_products,
                  rate / sgemm_rate * partial_products);
    }
  }
  // The race-like paths on a ViT-sized layer (M = tokens x images).
  const Shape shape{1700, 64, 192};
  Tensor x = random_matrix(shape.M, shape.K, 1), w = random_matrix(shape.K, shape.N, 2);
  const double macs = double(shape.M) * shape.K * shape.N;
  const double sgemm_rate = macs / sgemm_seconds(x, w);
  std::printf("race-like, M=%ld K=%ld N=%ld (ratio: engine MAC/s / sgemm MAC/s)\n", long(shape.M),
              long(shape.K), long(shape.N));
  using aimc::arch::ReadNoiseMode;
  struct RaceMode {
    const char* name;
    ReadNoiseMode mode;
    bool read_noise;
  };
  for (RaceMode mode : {RaceMode{"programming noise only", ReadNoiseMode::kExact, false},
                        RaceMode{"read noise, exact", ReadNoiseMode::kExact, true},
                        RaceMode{"read noise, aggregated", ReadNoiseMode::kAggregated, true}}) {
    aimc::analog::CrossbarLayer layer(race_like(mode.mode, mode.read_noise), w, Tensor(),
                                      {1, 0, "bench"});
    const double rate = macs / seconds_per_call([&] { layer.forward(x, 0); });
    std::printf("  %-38s %.3f GMAC/s  ratio %.4f%s\n", mode.name, rate * 1e-9, rate / sgemm_rate,
                layer.reads_merged() ? "  (reads merged)" : "");
  }
  // One normal per read of every column: normals per second against sgemm's MACs per second.
  const aimc::RngStream stream(1, 0, "bench", "read");
  std::vector<float> normals(1 << 16);
  uint64_t next = 0;
  const double normal_rate =
      double(normals.size()) / seconds_per_call([&] {
        stream.fill_fast_normal(next, int64_t(normals.size()), normals.data());
        next += normals.size();
      });
  std::printf("fill_fast_normal: %.3f G normals/s (single thread), %.4f per sgemm MAC/s\n",
              normal_rate * 1e-9, normal_rate / sgemm_rate);
  return 0;
}
