// Matrix-product kernels: MatMul / matmul, Gemm, linear. Every float product goes through
// OpenBLAS sgemm; runtime/reference_kernels.h holds the plain loops the tests compare with.
#include <cblas.h>

#include <algorithm>
#include <climits>

#include "aimc/core/parallel.h"
#include "aimc/runtime/broadcast.h"
#include "aimc/runtime/nn_kernels.h"

namespace aimc::runtime::nn {

namespace {

void blas_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                int64_t ldc) {
  // Also for library users who never call runtime::set_threads.
  [[maybe_unused]] static const bool single_threaded = (openblas_set_num_threads(1), true);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta,
              c, static_cast<int>(ldc));
}

}  // namespace

// OpenBLAS's own threading gives results that depend on its thread count, so OpenBLAS always
// runs single-threaded (runtime/threads.cpp) and the product is cut into tiles that depend on
// the shape alone; our pool spreads the tiles over the threads. Each element of c is then
// computed by the same single-threaded call whatever the thread count.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
           const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    throw_runtime("sgemm: size {}x{}x{} exceeds the BLAS integer range", m, n, k);
  if (k == 0) {
    // BLAS rejects a zero leading dimension; the product is empty, only beta * c remains.
    for (int64_t i = 0; i < m * n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  constexpr int64_t kMinTileFlops = int64_t{1} << 18;  // smaller products run as one call
  constexpr int64_t kMaxTiles = 16;
  auto round_up = [](int64_t v, int64_t to) { return (v + to - 1) / to * to; };
  if (m * n * k < 2 * kMinTileFlops) {
    blas_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
  } else if (m >= 64) {
    const int64_t rows = round_up(std::max<int64_t>(32, (m + kMaxTiles - 1) / kMaxTiles), 8);
    const int64_t tiles = (m + rows - 1) / rows;
    parallel_for(0, tiles, 1, [&](int64_t t) {
      const int64_t i0 = t * rows, mi = std::min(rows, m - i0);
      blas_sgemm(trans_a, trans_b, mi, n, k, alpha, trans_a ? a + i0 : a + i0 * k, lda, b, ldb,
                 beta, c + i0 * n, n);
    });
  } else {
    const int64_t cols = round_up(std::max<int64_t>(64, (n + kMaxTiles - 1) / kMaxTiles), 16);
    const int64_t tiles = (n + cols - 1) / cols;
    parallel_for(0, tiles, 1, [&](int64_t t) {
      const int64_t j0 = t * cols, nj = std::min(cols, n - j0);
      blas_sgemm(trans_a, trans_b, m, nj, k, alpha, a, lda, trans_b ? b + j0 * k : b + j0, ldb,
                 beta, c + j0, n);
    });
  }
}

namespace {

// The batched product a[..., M, K] x b[..., K, N] once shapes are checked: each output
// matrix t reads matrix a_index[t] of a and b_index[t] of b.
struct MatmulPlan {
  Shape out_shape;
  int64_t m = 0, n = 0, k = 0;
  std::vector<int64_t> a_index, b_index;
  bool b_shared = false;  // b has one matrix for every batch: a can be one [batch*M, K] matrix
};

MatmulPlan plan_matmul(const ir::Node& node, const Shape& a_in, const Shape& b_in) {
  if (a_in.empty() || b_in.empty())
    throw_bad_input("{}: operands must have rank >= 1, got {} and {}", node.describe(),
                    shape_str(a_in), shape_str(b_in));
  // numpy: a 1-D left operand is a row [1, K], a 1-D right operand a column [K, 1]; the added
  // dimension is dropped from the result.
  Shape a_shape = a_in.size() == 1 ? Shape{1, a_in[0]} : a_in;
  Shape b_shape = b_in.size() == 1 ? Shape{b_in[0], 1} : b_in;
  MatmulPlan plan;
  plan.m = a_shape[a_shape.size() - 2];
  plan.k = a_shape.back();
  plan.n = b_shape.back();
  if (b_shape[b_shape.size() - 2] != plan.k)
    throw_bad_input("{}: inner dimensions differ: {} x {}", node.describe(), shape_str(a_in),
                    shape_str(b_in));
  Shape a_batch(a_shape.begin(), a_shape.end() - 2);
  Shape b_batch(b_shape.begin(), b_shape.end() - 2);
  std::optional<Shape> batch = broadcast_shapes(a_batch, b_batch);
  if (!batch)
    throw_bad_input("{}: batch dimensions do not broadcast: {} x {}", node.describe(),
                    shape_str(a_in), shape_str(b_in));
  plan.out_shape = *batch;
  if (a_in.size() > 1) plan.out_shape.push_back(plan.m);
  if (b_in.size() > 1) plan.out_shape.push_back(plan.n);

  plan.b_shared = shape_numel(b_batch) == 1;
  int64_t batches = shape_numel(*batch);
  // Batch strides in matrices, 0 along broadcast dimensions, aligned to the output batch.
  auto aligned_strides = [&](const Shape& shape) {
    Shape strides(batch->size(), 0);
    Shape own = shape_strides(shape);
    size_t lead = batch->size() - shape.size();
    for (size_t i = 0; i < shape.size(); ++i) strides[lead + i] = shape[i] == 1 ? 0 : own[i];
    return strides;
  };
  Shape a_strides = aligned_strides(a_batch);
  Shape b_strides = aligned_strides(b_batch);
  plan.a_index.resize(static_cast<size_t>(batches));
  plan.b_index.resize(static_cast<size_t>(batches));
  for (int64_t t = 0; t < batches; ++t) {
    int64_t rest = t, a_off = 0, b_off = 0;
    for (size_t i = batch->size(); i-- > 0;) {
      int64_t index = rest % (*batch)[i];
      rest /= (*batch)[i];
      a_off += index * a_strides[i];
      b_off += index * b_strides[i];
    }
    plan.a_index[static_cast<size_t>(t)] = a_off;
    plan.b_index[static_cast<size_t>(t)] = b_off;
  }
  return plan;
}

// Integer MatMul (ONNX allows it; rare in models): plain loops, wrapping like numpy.
template <typename T>
void matmul_integer(const MatmulPlan& plan, const T* a, const T* b, T* y) {
  int64_t m = plan.m, n = plan.n, k = plan.k;
  for (size_t t = 0; t < plan.a_index.size(); ++t) {
    const T* at = a + plan.a_index[t] * m * k;
    const T* bt = b + plan.b_index[t] * k * n;
    T* yt = y + static_cast<int64_t>(t) * m * n;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        uint64_t sum = 0;  // unsigned: overflow wraps instead of being undefined
        for (int64_t p = 0; p < k; ++p)
          sum += static_cast<uint64_t>(at[i * k + p]) * static_cast<uint64_t>(bt[p * n + j]);
        yt[i * n + j] = static_cast<T>(sum);
      }
    }
  }
}

// a[..., M, K] x b[..., K, N] -> y[broadcast(...), M, N] (numpy matmul)
std::vector<Tensor> matmul_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& a = inputs.at(0);
  const Tensor& b = inputs.at(1);
  if (a.dtype() != b.dtype())
    throw_bad_input("{}: operands differ in dtype ({} vs {})", node.describe(),
                    dtype_name(a.dtype()), dtype_name(b.dtype()));
  MatmulPlan plan = plan_matmul(node, a.shape(), b.shape());
  Tensor y(a.dtype(), plan.out_shape);
  switch (a.dtype()) {
    case DType::kF32: {
      const float* pa = a.data<float>();
      const float* pb = b.data<float>();
      float* py = y.data<float>();
      int64_t m = plan.m, n = plan.n, k = plan.k;
      if (plan.b_shared) {
        // One tall product: every batch of a against the same b.
        sgemm(false, false, static_cast<int64_t>(plan.a_index.size()) * m, n, k, 1.0f, pa, pb, 0.0f,
              py);
        break;
      }
      // One product per matrix pair (attention's Q·Kᵀ and A·V), spread over the threads.
      parallel_for(0, static_cast<int64_t>(plan.a_index.size()), 1, [&](int64_t t) {
        sgemm(false, false, m, n, k, 1.0f, pa + plan.a_index[t] * m * k,
              pb + plan.b_index[t] * k * n, 0.0f, py + t * m * n);
      });
      break;
    }
    case DType::kI64:
      matmul_integer(plan, a.data<int64_t>(), b.data<int64_t>(), y.data<int64_t>());
      break;
    case DType::kI32:
      matmul_integer(plan, a.data<int32_t>(), b.data<int32_t>(), y.data<int32_t>());
      break;
    default:
      throw_bad_input("{}: dtype {} is not supported (f32, i64, i32)", node.describe(),
                      dtype_name(a.dtype()));
  }
  return {y};
}

// a[M, K] (or [K, M]) x b[K, N] (or [N, K]) * alpha + beta * c[broadcast to M, N] -> y[M, N]
std::vector<Tensor> gemm_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& a = f32_input(node, inputs, 0);
  const Tensor& b = f32_input(node, inputs, 1);
  const Tensor& c = optional_input(inputs, 2);
  if (a.rank() != 2 || b.rank() != 2)
    throw_bad_input("{}: A and B must be matrices, got {} and {}", node.describe(),
                    shape_str(a.shape()), shape_str(b.shape()));
  bool trans_a = node.attr_int("transA", 0) != 0;
  bool trans_b = node.attr_int("transB", 0) != 0;
  auto alpha = static_cast<float>(node.attr_float("alpha", 1.0));
  auto beta = static_cast<float>(node.attr_float("beta", 1.0));
  int64_t m = trans_a ? a.dim(1) : a.dim(0);
  int64_t k = trans_a ? a.dim(0) : a.dim(1);
  int64_t n = trans_b ? b.dim(0) : b.dim(1);
  if ((trans_b ? b.dim(1) : b.dim(0)) != k)
    throw_bad_input("{}: inner dimensions differ: A {} (transA={}) x B {} (transB={})",
                    node.describe(), shape_str(a.shape()), trans_a, shape_str(b.shape()), trans_b);
  Tensor y(DType::kF32, {m, n});
  float* py = y.data<float>();
  if (c.is_valid()) {
    if (c.dtype() != DType::kF32)
      throw_bad_input("{}: C must be f32, got {}", node.describe(), dtype_name(c.dtype()));
    // C broadcasts one way only: to [M, N].
    std::optional<Shape> out = broadcast_shapes({m, n}, c.shape());
    if (!out || *out != Shape{m, n})
      throw_bad_input("{}: C of shape {} does not broadcast to [{}, {}]", node.describe(),
                      shape_str(c.shape()), m, n);
    Shape c2 = c.shape();
    c2.insert(c2.begin(), 2 - c2.size(), 1);
    int64_t row_stride = c2[0] == 1 ? 0 : c2[1];
    int64_t col_stride = c2[1] == 1 ? 0 : 1;
    const float* pc = c.data<float>();
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) py[i * n + j] = beta * pc[i * row_stride + j * col_stride];
    }
  }
  sgemm(trans_a, trans_b, m, n, k, alpha, a.data<float>(), b.data<float>(),
        c.is_valid() ? 1.0f : 0.0f, py);
  return {y};
}

// x[..., K] * w[K, N] + bias[N] -> y[..., N]
std::vector<Tensor> linear_forward(const ir::Node& node, const std::vector<Tensor>& inputs) {
  const Tensor& x = f32_input(node, inputs, 0);
  const Tensor& w = f32_input(node, inputs, 1);
  const Tensor& bias = optional_input(inputs, 2);
  if (w.rank() != 2 || x.rank() < 1 || x.shape().back() != w.dim(0))
    throw_bad_input("{}: x {} does not multiply W {} (expected x[..., K], W[K, N])",
                    node.describe(), shape_str(x.shape()), shape_str(w.shape()));
  int64_t k = w.dim(0);
  int64_t n = w.dim(1);
  Shape out_shape = x.shape();
  out_shape.back() = n;
  Tensor y(DType::kF32, out_shape);
  int64_t rows =
      k == 0 ? shape_numel(Shape(x.shape().begin(), x.shape().end() - 1)) : x.numel() / k;
  float* py = y.data<float>();
  if (bias.is_valid()) {
    if (bias.dtype() != DType::kF32 || bias.rank() != 1 || bias.dim(0) != n)
      throw_bad_input("{}: bias must be f32 [{}], got {} {}", node.describe(), n,
                      dtype_name(bias.dtype()), shape_str(bias.shape()));
    const float* pb = bias.data<float>();
    for (int64_t r = 0; r < rows; ++r) std::copy(pb, pb + n, py + r * n);
  }
  sgemm(false, false, rows, n, k, 1.0f, x.data<float>(), w.data<float>(),
        bias.is_valid() ? 1.0f : 0.0f, py);
  return {y};
}

}  // namespace

void register_linalg_kernels(KernelRegistry& registry) {
  registry.add("MatMul", matmul_forward);
  registry.add("matmul", matmul_forward);
  registry.add("Gemm", gemm_forward);
  registry.add("linear", linear_forward);
}

}  // namespace aimc::runtime::nn
