// Analog CAM function units and the composite operations built on them
// (../shared/ANALOG_MODEL.md §3; the choices that page leaves open are in docs/analog-model.md,
// "ACAM function units").
#include "aimc/analog/acam.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/core/rng.h"

namespace aimc::analog {

namespace {

constexpr int kMaxInBits = 16;   // 65536 codes: the table stays small
constexpr int kMaxOutBits = 24;  // codes stay exact in a double and an int
constexpr int64_t kElementGrain = 4096;

constexpr double kInf = std::numeric_limits<double>::infinity();

// The quantised f table and everything derived from it that does not depend on the chip.
struct Synthesis {
  double step = 0;             // input code width
  std::vector<double> bounds;  // bounds[c] = lo + c·step, c = 0 .. codes (monotone)
  std::vector<int> out_codes;  // o(c)
  double out_min = 0, out_max = 0;
  std::vector<AcamRow> rows;  // exact thresholds, bit-major, runs in code order
};

void check_config(AcamFunction f, double lo, double hi, const arch::AcamConfig& config) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi))
    throw_bad_input("ACAM {} unit: input range [{}, {}] must be finite with lo < hi",
                    acam_function_name(f), lo, hi);
  if (config.in_bits < 1 || config.in_bits > kMaxInBits)
    throw_bad_input("acam.in_bits: {} is out of range [1, {}]", config.in_bits, kMaxInBits);
  if (config.out_bits < 1 || config.out_bits > kMaxOutBits)
    throw_bad_input("acam.out_bits: {} is out of range [1, {}]", config.out_bits, kMaxOutBits);
  if (!(config.threshold_sigma >= 0) || !std::isfinite(config.threshold_sigma))
    throw_bad_input("acam.threshold_sigma: {} must be finite and >= 0", config.threshold_sigma);
  if (!(config.input_sigma >= 0) || !std::isfinite(config.input_sigma))
    throw_bad_input("acam.input_sigma: {} must be finite and >= 0", config.input_sigma);
}

int encode(int out_code, arch::AcamEncoding encoding) {
  return encoding == arch::AcamEncoding::kGray ? out_code ^ (out_code >> 1) : out_code;
}

int decode(int word, arch::AcamEncoding encoding, int out_bits) {
  if (encoding == arch::AcamEncoding::kBinary) return word;
  int out_code = word;
  for (int shift = 1; shift < out_bits; shift <<= 1) out_code ^= out_code >> shift;
  return out_code;
}

double dequantise(int out_code, double out_min, double out_max, int out_bits) {
  double levels = static_cast<double>((1 << out_bits) - 1);
  return out_min + out_code * (out_max - out_min) / levels;
}

Synthesis synthesise(AcamFunction f, double lo, double hi, const arch::AcamConfig& config) {
  check_config(f, lo, hi, config);
  const int codes = 1 << config.in_bits;
  Synthesis syn;
  syn.step = (hi - lo) / codes;
  syn.bounds.resize(codes + 1);
  for (int c = 0; c <= codes; ++c) syn.bounds[c] = lo + c * syn.step;

  std::vector<double> centre_values(codes);
  for (int c = 0; c < codes; ++c) {
    double centre = lo + (c + 0.5) * syn.step;
    centre_values[c] = acam_function_value(f, centre);
    if (!std::isfinite(centre_values[c]))
      throw_bad_input(
          "ACAM {} unit over [{}, {}]: f({}) = {} is not finite; choose a range "
          "inside the function's domain",
          acam_function_name(f), lo, hi, centre, centre_values[c]);
  }
  auto [min_it, max_it] = std::minmax_element(centre_values.begin(), centre_values.end());
  syn.out_min = *min_it;
  syn.out_max = *max_it;
  const double levels = static_cast<double>((1 << config.out_bits) - 1);
  syn.out_codes.resize(codes);
  for (int c = 0; c < codes; ++c) {
    double span = syn.out_max - syn.out_min;
    syn.out_codes[c] =
        span > 0 ? static_cast<int>(std::round((centre_values[c] - syn.out_min) / span * levels))
                 : 0;
  }

  // One row per maximal run of codes whose bit is 1. The rows touching the first and last
  // codes open to -inf / +inf: an input outside [lo, hi] then matches what code 0 / the last
  // code would, as the clamping of code_of() says.
  for (int bit = 0; bit < config.out_bits; ++bit) {
    int run_start = -1;
    for (int c = 0; c <= codes; ++c) {
      bool set = c < codes && ((encode(syn.out_codes[c], config.encoding) >> bit) & 1);
      if (set && run_start < 0) run_start = c;
      if (!set && run_start >= 0) {
        double row_lo = run_start == 0 ? -kInf : syn.bounds[run_start];
        double row_hi = c == codes ? kInf : syn.bounds[c];
        syn.rows.push_back({bit, row_lo, row_hi});
        run_start = -1;
      }
    }
  }
  return syn;
}

}  // namespace

std::pair<double, double> usable_range(double lo, double hi) {
  if (!(lo <= hi)) return {-1.0, 1.0};  // never calibrated: a neutral range
  if (hi - lo < 1e-6 * std::max(1.0, std::abs(hi))) {
    double pad = 1e-3 * std::max(1.0, std::abs(hi));
    return {lo - pad, hi + pad};
  }
  return {lo, hi};
}

const char* acam_function_name(AcamFunction f) {
  switch (f) {
    case AcamFunction::kExp:
      return "exp";
    case AcamFunction::kReciprocal:
      return "reciprocal";
    case AcamFunction::kRsqrt:
      return "rsqrt";
    case AcamFunction::kLog:
      return "log";
    case AcamFunction::kGelu:
      return "gelu";
    case AcamFunction::kTanh:
      return "tanh";
    case AcamFunction::kSigmoid:
      return "sigmoid";
    case AcamFunction::kSilu:
      return "silu";
    case AcamFunction::kSqrt:
      return "sqrt";
    case AcamFunction::kRelu:
      return "relu";
    case AcamFunction::kIdentity:
      return "identity";
  }
  return "unknown";
}

std::optional<AcamFunction> acam_function_from_name(const std::string& name) {
  for (int f = 0; f <= static_cast<int>(AcamFunction::kIdentity); ++f)
    if (name == acam_function_name(static_cast<AcamFunction>(f)))
      return static_cast<AcamFunction>(f);
  return std::nullopt;
}

double acam_function_value(AcamFunction f, double x) {
  switch (f) {
    case AcamFunction::kExp:
      return std::exp(x);
    case AcamFunction::kReciprocal:
      return 1.0 / x;
    case AcamFunction::kRsqrt:
      return 1.0 / std::sqrt(x);
    case AcamFunction::kLog:
      return std::log(x);
    case AcamFunction::kGelu:
      return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2));
    case AcamFunction::kTanh:
      return std::tanh(x);
    case AcamFunction::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case AcamFunction::kSilu:
      return x / (1.0 + std::exp(-x));
    case AcamFunction::kSqrt:
      return std::sqrt(x);
    case AcamFunction::kRelu:
      return x > 0.0 ? x : 0.0;
    case AcamFunction::kIdentity:
      return x;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

struct AcamUnit::Impl {
  AcamFunction function;
  double lo, hi;
  arch::AcamConfig config;
  Synthesis syn;
  double inverse_step = 0.0;     // 1 / syn.step
  std::vector<double> table;     // dequantised o(c)
  std::vector<AcamRow> rows;     // as programmed (exact until program() draws noise)
  bool exact_thresholds = true;  // rows == syn.rows: a search is a table lookup by code
  ChipKey key;                   // keys the input noise stream
  RngStream input_noise{0, 0, "", "acam.input"};

  // For the noisy search: per bit, its rows sorted by lo with the running maximum of hi, so
  // "some row with lo <= x < hi" is one binary search (rows of a bit may overlap after noise).
  struct BitRows {
    std::vector<double> sorted_lo;
    std::vector<double> running_max_hi;
  };
  std::vector<BitRows> bit_rows;

  // The table by code, over this Impl's vectors.
  Lookup view() const {
    return Lookup{lo, inverse_step, syn.bounds.data(), table.data(),
                  static_cast<int>(table.size())};
  }
  int code_of(double x) const { return view().code(x); }

  double search_rows(double x) const {
    int word = 0;
    for (int bit = 0; bit < config.out_bits; ++bit) {
      const BitRows& b = bit_rows[bit];
      auto after = std::upper_bound(b.sorted_lo.begin(), b.sorted_lo.end(), x);
      if (after == b.sorted_lo.begin()) continue;
      size_t last = static_cast<size_t>(after - b.sorted_lo.begin()) - 1;
      if (x < b.running_max_hi[last]) word |= 1 << bit;
    }
    return dequantise(decode(word, config.encoding, config.out_bits), syn.out_min, syn.out_max,
                      config.out_bits);
  }

  double search_noiseless(double x) const {
    if (std::isnan(x)) return x;
    return exact_thresholds ? table[code_of(x)] : search_rows(x);
  }

  double search(double x, int64_t element) const {
    if (config.input_sigma > 0)
      x += config.input_sigma * (hi - lo) * input_noise.normal(static_cast<uint64_t>(element));
    return search_noiseless(x);
  }

  void index_rows() {
    bit_rows.assign(config.out_bits, {});
    std::vector<std::vector<std::pair<double, double>>> per_bit(config.out_bits);
    for (const AcamRow& row : rows) per_bit[row.bit].push_back({row.lo, row.hi});
    for (int bit = 0; bit < config.out_bits; ++bit) {
      auto& intervals = per_bit[bit];
      std::sort(intervals.begin(), intervals.end());
      double running = -kInf;
      for (auto [row_lo, row_hi] : intervals) {
        running = std::max(running, row_hi);
        bit_rows[bit].sorted_lo.push_back(row_lo);
        bit_rows[bit].running_max_hi.push_back(running);
      }
    }
  }
};

AcamUnit::AcamUnit(AcamFunction f, double lo, double hi, const arch::AcamConfig& config)
    : impl_(std::make_shared<Impl>()) {
  Impl& impl = *impl_;
  impl.function = f;
  impl.lo = lo;
  impl.hi = hi;
  impl.config = config;
  impl.syn = synthesise(f, lo, hi, config);
  impl.inverse_step = 1.0 / impl.syn.step;
  impl.table.resize(impl.syn.out_codes.size());
  for (size_t c = 0; c < impl.table.size(); ++c)
    impl.table[c] =
        dequantise(impl.syn.out_codes[c], impl.syn.out_min, impl.syn.out_max, config.out_bits);
  impl.rows = impl.syn.rows;
  impl.index_rows();
}

void AcamUnit::program(const ChipKey& key) {
  // Copies of a unit share their Impl; programming one chip instance must not touch another.
  auto programmed = std::make_shared<Impl>(*impl_);
  Impl& impl = *programmed;
  impl.key = key;
  impl.input_noise = RngStream(key.seed, key.trial, key.node, "acam.input");
  impl.rows = impl.syn.rows;
  const double sigma = impl.config.threshold_sigma * (impl.hi - impl.lo);
  impl.exact_thresholds = !(sigma > 0);
  if (!impl.exact_thresholds) {
    RngStream threshold_noise(key.seed, key.trial, key.node, "acam.threshold");
    for (size_t r = 0; r < impl.rows.size(); ++r) {
      // The open ends (±inf) stay open: noise moves a comparator, not an unbounded edge.
      impl.rows[r].lo += sigma * threshold_noise.normal(2 * r);
      impl.rows[r].hi += sigma * threshold_noise.normal(2 * r + 1);
    }
  }
  impl.index_rows();
  impl_ = std::move(programmed);
}

void AcamUnit::apply(const float* x, float* y, int64_t n, int64_t first_element) const {
  const Impl& impl = *impl_;
  // Each element depends on its own index only, so any split gives the same result.
  parallel_for(0, n, kElementGrain, [&](int64_t i) {
    y[i] = static_cast<float>(impl.search(static_cast<double>(x[i]), first_element + i));
  });
}

float AcamUnit::apply_one(float x) const {
  return static_cast<float>(impl_->search_noiseless(static_cast<double>(x)));
}

double AcamUnit::search(double x, int64_t element) const {
  return impl_->search(x, element);
}

int AcamUnit::rows() const {
  return static_cast<int>(impl_->rows.size());
}
const std::vector<AcamRow>& AcamUnit::table_rows() const {
  return impl_->rows;
}
const std::vector<double>& AcamUnit::table() const {
  return impl_->table;
}
int AcamUnit::code_of(double x) const {
  if (std::isnan(x))
    throw_bad_input("ACAM {} unit: NaN has no input code", acam_function_name(impl_->function));
  return impl_->code_of(x);
}
AcamFunction AcamUnit::function() const {
  return impl_->function;
}
std::optional<AcamUnit::Lookup> AcamUnit::lookup() const {
  const Impl& impl = *impl_;
  if (!impl.exact_thresholds || impl.config.input_sigma > 0) return std::nullopt;
  return impl.view();
}
double AcamUnit::lo() const {
  return impl_->lo;
}
double AcamUnit::hi() const {
  return impl_->hi;
}

int acam_rows(AcamFunction f, double lo, double hi, const arch::AcamConfig& config) {
  return static_cast<int>(synthesise(f, lo, hi, config).rows.size());
}

// ---- Composite operations ----

namespace {

void check_unit(const AcamUnit& unit, AcamFunction expected, const char* op, const char* role) {
  if (unit.function() != expected)
    throw_bad_input("{}: the {} unit computes {}, expected {}", op, role,
                    acam_function_name(unit.function()), acam_function_name(expected));
}

void check_float_input(const Tensor& x, const char* op, const char* name) {
  if (!x.is_valid() || x.dtype() != DType::kF32)
    throw_bad_input("{}: {} must be a float32 tensor", op, name);
  if (x.rank() < 1) throw_bad_input("{}: {} must have rank >= 1", op, name);
}

// Rows in chunks of a size set by the row length only, never by the thread count.
int64_t row_grain(int64_t row_length) {
  return std::max<int64_t>(1, kElementGrain / std::max<int64_t>(1, row_length));
}

}  // namespace

// x: [..., n]. Element e (global index g = first_element + e) is searched on the exp unit at
// counter 2g; the reciprocal of row r (first element g0) at counter 2·g0 + 1.
Tensor acam_softmax(const Tensor& x, const AcamUnit& exp_unit, const AcamUnit& recip_unit,
                    int64_t first_element) {
  check_float_input(x, "acam_softmax", "x");
  check_unit(exp_unit, AcamFunction::kExp, "acam_softmax", "exp");
  check_unit(recip_unit, AcamFunction::kReciprocal, "acam_softmax", "reciprocal");
  Tensor y(DType::kF32, x.shape());
  const int64_t n = x.dim(-1);
  if (n == 0 || x.numel() == 0) return y;
  const int64_t row_count = x.numel() / n;
  const float* in = x.data<float>();
  float* out = y.data<float>();
  parallel_for(0, row_count, row_grain(n), [&](int64_t r) {
    const float* row_in = in + r * n;
    float* row_out = out + r * n;
    const int64_t g0 = first_element + r * n;
    double row_max = -kInf;
    for (int64_t j = 0; j < n; ++j) row_max = std::max(row_max, static_cast<double>(row_in[j]));
    std::vector<double> e(static_cast<size_t>(n));
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      e[j] = exp_unit.search(static_cast<double>(row_in[j]) - row_max, 2 * (g0 + j));
      sum += e[j];
    }
    double r_sum = recip_unit.search(sum, 2 * g0 + 1);
    for (int64_t j = 0; j < n; ++j) row_out[j] = static_cast<float>(e[j] * r_sum);
  });
  return y;
}

// x: [..., n], gamma/beta: n values (or invalid: 1 / 0). The rsqrt of row r is searched at
// counter first_element + r·n, the global index of the row's first element.
Tensor acam_layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                       const AcamUnit& rsqrt_unit, int64_t first_element) {
  check_float_input(x, "acam_layer_norm", "x");
  check_unit(rsqrt_unit, AcamFunction::kRsqrt, "acam_layer_norm", "rsqrt");
  const int64_t n = x.dim(-1);
  for (auto [t, name] : {std::pair{&gamma, "gamma"}, std::pair{&beta, "beta"}}) {
    if (!t->is_valid()) continue;
    if (t->dtype() != DType::kF32 || t->numel() != n)
      throw_bad_input("acam_layer_norm: {} must be float32 with {} values (got {} {})", name, n,
                      dtype_name(t->dtype()), shape_str(t->shape()));
  }
  if (!(eps >= 0) || !std::isfinite(eps))
    throw_bad_input("acam_layer_norm: epsilon {} must be finite and >= 0", eps);
  Tensor y(DType::kF32, x.shape());
  if (n == 0 || x.numel() == 0) return y;
  const int64_t row_count = x.numel() / n;
  const float* in = x.data<float>();
  const float* gamma_values = gamma.is_valid() ? gamma.data<float>() : nullptr;
  const float* beta_values = beta.is_valid() ? beta.data<float>() : nullptr;
  float* out = y.data<float>();
  parallel_for(0, row_count, row_grain(n), [&](int64_t r) {
    const float* row_in = in + r * n;
    float* row_out = out + r * n;
    double mean = 0;
    for (int64_t j = 0; j < n; ++j) mean += row_in[j];
    mean /= static_cast<double>(n);
    double var = 0;
    for (int64_t j = 0; j < n; ++j) var += (row_in[j] - mean) * (row_in[j] - mean);
    var /= static_cast<double>(n);
    double inv_std = rsqrt_unit.search(var + eps, first_element + r * n);
    for (int64_t j = 0; j < n; ++j) {
      double g = gamma_values ? gamma_values[j] : 1.0;
      double b = beta_values ? beta_values[j] : 0.0;
      row_out[j] = static_cast<float>((row_in[j] - mean) * inv_std * g + b);
    }
  });
  return y;
}

LogProductTable::LogProductTable(const AcamUnit& log_unit, const AcamUnit& exp_unit) {
  const std::optional<AcamUnit::Lookup> log_lookup = log_unit.lookup();
  const std::optional<AcamUnit::Lookup> exp_lookup = exp_unit.lookup();
  if (!log_lookup || !exp_lookup || log_lookup->codes > kMaxCodes ||
      exp_lookup->codes > std::numeric_limits<uint16_t>::max() + 1)
    return;
  const int codes = log_lookup->codes;
  log_lookup_ = *log_lookup;
  exp_table_.assign(exp_lookup->table, exp_lookup->table + exp_lookup->codes);
  pair_codes_.resize(static_cast<size_t>(codes) * codes);
  parallel_for(0, codes, 1, [&](int64_t ca) {
    for (int cb = 0; cb < codes; ++cb) {
      // ln values are finite (the log unit's range starts above 0), so is their sum.
      const double x = log_lookup->table[ca] + log_lookup->table[cb];
      pair_codes_[static_cast<size_t>(ca) * codes + cb] =
          static_cast<uint16_t>(exp_lookup->code(x));
    }
  });
  codes_ = codes;
}

namespace {

// acam_log_matmul with a valid product table: codes and signs per operand element (b's
// transposed to [batch, N, K] so that a product's K terms are contiguous), then per output
// Σ_k sign · product(code_a, code_b) in k order. A zero operand (sign 0) adds sign · product =
// ±0, which leaves the sum as the search path's `continue` does. The caller takes this path
// only when no operand is NaN.
Tensor log_matmul_by_table(const Tensor& a, const Tensor& b, const LogProductTable& products,
                           double zero_below, Tensor y) {
  const int64_t M = a.dim(-2), K = a.dim(-1), N = b.dim(-1);
  const int64_t batches = y.numel() / (M * N);
  std::vector<uint16_t> code_a(a.numel()), code_b(b.numel());
  std::vector<int8_t> sign_a(a.numel()), sign_b(b.numel());
  auto encode = [&](float v, uint16_t& code, int8_t& sign) {
    const double magnitude = std::fabs(static_cast<double>(v));
    const bool zero = magnitude < zero_below;
    sign = zero ? 0 : (v < 0 ? -1 : 1);
    code = zero ? 0 : static_cast<uint16_t>(products.log_code(magnitude));
  };
  const float* av = a.data<float>();
  const float* bv = b.data<float>();
  parallel_for(0, a.numel(), kElementGrain,
               [&](int64_t i) { encode(av[i], code_a[i], sign_a[i]); });
  parallel_for(0, b.numel(), kElementGrain, [&](int64_t i) {  // [batch, k, n] -> [batch, n, k]
    const int64_t batch = i / (K * N), k = (i / N) % K, n = i % N;
    const int64_t t = (batch * N + n) * K + k;
    encode(bv[i], code_b[t], sign_b[t]);
  });
  float* out = y.data<float>();
  parallel_for(0, batches * M, std::max<int64_t>(1, kElementGrain / std::max<int64_t>(1, K * N)),
               [&](int64_t row) {
                 const int64_t batch = row / M;
                 const uint16_t* ca = code_a.data() + row * K;
                 const int8_t* sa = sign_a.data() + row * K;
                 for (int64_t n = 0; n < N; ++n) {
                   const uint16_t* cb = code_b.data() + (batch * N + n) * K;
                   const int8_t* sb = sign_b.data() + (batch * N + n) * K;
                   double acc = 0;
                   for (int64_t k = 0; k < K; ++k) {
                     acc += sa[k] * sb[k] * products.product(ca[k], cb[k]);
                   }
                   out[row * N + n] = static_cast<float>(acc);
                 }
               });
  return y;
}

}  // namespace

// a: [..., M, K], b: [..., K, N] -> [..., M, N]. Counters follow a's elements, first_element
// being the global index of a's first element (as for every composite: the first input's):
// a[batch, m, k] has global index g = first_element + its flat index, and the pair (g, n) is
// numbered p = g·N + n. The exp search of term k of output (batch, m, n) uses 3p + 2 with g of
// a[batch, m, k]; ln|a[batch, m, k]| is searched once at 3p with n = 0; ln|b[batch, k, n]| once
// at 3p + 1 with g of a[batch, 0, k]. Every search gets its own counter, and splitting the
// batch dims (first_element advanced by M·K per batch) reproduces the same numbers.
Tensor acam_log_matmul(const Tensor& a, const Tensor& b, const AcamUnit& log_unit,
                       const AcamUnit& exp_unit, int64_t first_element,
                       const LogProductTable* products) {
  constexpr const char* kOp = "acam_log_matmul";
  check_float_input(a, kOp, "a");
  check_float_input(b, kOp, "b");
  check_unit(log_unit, AcamFunction::kLog, kOp, "log");
  check_unit(exp_unit, AcamFunction::kExp, kOp, "exp");
  if (a.rank() < 2 || a.rank() != b.rank())
    throw_bad_input("{}: a {} and b {} must have the same rank >= 2", kOp, shape_str(a.shape()),
                    shape_str(b.shape()));
  for (int64_t axis = 0; axis + 2 < a.rank(); ++axis)
    if (a.shape()[axis] != b.shape()[axis])
      throw_bad_input("{}: batch dims of a {} and b {} differ (no broadcasting)", kOp,
                      shape_str(a.shape()), shape_str(b.shape()));
  const int64_t M = a.dim(-2), K = a.dim(-1), N = b.dim(-1);
  if (b.dim(-2) != K)
    throw_bad_input("{}: inner dims of a {} and b {} differ", kOp, shape_str(a.shape()),
                    shape_str(b.shape()));
  Shape out_shape = a.shape();
  out_shape.back() = N;
  Tensor y(DType::kF32, out_shape);
  if (y.numel() == 0) return y;

  // ln|v| per operand element, or NaN-free "zero" marks for |v| below the log unit's range.
  const double zero_below = log_unit.lo();
  if (products && products->valid()) {
    AIMC_ASSERT(products->codes() == static_cast<int>(log_unit.table().size()),
                "{}: the product table was built for other units", kOp);
    auto no_nan = [](const Tensor& t) {
      for (float v : t.values<float>())
        if (std::isnan(v)) return false;
      return true;
    };
    if (no_nan(a) && no_nan(b)) return log_matmul_by_table(a, b, *products, zero_below, y);
  }
  auto log_operand = [&](const Tensor& t, int64_t rows, int64_t cols, bool is_a) {
    std::vector<double> logs(static_cast<size_t>(t.numel()));
    std::vector<int8_t> signs(static_cast<size_t>(t.numel()));
    const float* v = t.data<float>();
    parallel_for(0, t.numel(), kElementGrain, [&](int64_t i) {
      const int64_t batch = i / (rows * cols), row = (i / cols) % rows, col = i % cols;
      double magnitude = std::fabs(static_cast<double>(v[i]));
      if (std::isnan(magnitude)) {
        signs[i] = 1;
        logs[i] = magnitude;
        return;
      }
      if (magnitude < zero_below) {
        signs[i] = 0;
        return;
      }
      signs[i] = v[i] < 0 ? -1 : 1;
      // a[batch, m=row, k=col] -> pair (a[batch, m, k], 0); b[batch, k=row, n=col] -> pair
      // (a[batch, 0, k], n).
      const int64_t a_index = is_a ? i : (batch * M * K + row);
      const int64_t pair = (first_element + a_index) * N + (is_a ? 0 : col);
      logs[i] = log_unit.search(magnitude, 3 * pair + (is_a ? 0 : 1));
    });
    return std::pair{std::move(logs), std::move(signs)};
  };
  auto [log_a, sign_a] = log_operand(a, M, K, true);
  auto [log_b, sign_b] = log_operand(b, K, N, false);

  float* out = y.data<float>();
  const std::optional<AcamUnit::Lookup> exp_lookup = exp_unit.lookup();
  parallel_for(0, y.numel(), std::max<int64_t>(1, kElementGrain / std::max<int64_t>(1, K)),
               [&](int64_t o) {
                 const int64_t batch = o / (M * N), m = (o / N) % M, n = o % N;
                 const int64_t a_base = (batch * M + m) * K, b_base = batch * K * N + n;
                 double acc = 0;
                 if (exp_lookup) {  // the same values as search(), inline
                   for (int64_t k = 0; k < K; ++k) {
                     int sign = sign_a[a_base + k] * sign_b[b_base + k * N];
                     if (sign == 0) continue;
                     acc += sign * (*exp_lookup)(log_a[a_base + k] + log_b[b_base + k * N]);
                   }
                   out[o] = static_cast<float>(acc);
                   return;
                 }
                 for (int64_t k = 0; k < K; ++k) {
                   int sign = sign_a[a_base + k] * sign_b[b_base + k * N];
                   if (sign == 0) continue;
                   double product = exp_unit.search(log_a[a_base + k] + log_b[b_base + k * N],
                                                    3 * ((first_element + a_base + k) * N + n) + 2);
                   acc += sign * product;
                 }
                 out[o] = static_cast<float>(acc);
               });
  return y;
}

}  // namespace aimc::analog
