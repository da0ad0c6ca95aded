// The element-wise functions on one ACAM unit each (ANALOG_MODEL.md §3). Adding an op whose
// function analog/acam.h synthesises is one row here (docs/dev/lowering.md).
#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering::detail {

namespace {

struct UnaryRow {
  const char* op;        // IR op
  const char* kind;      // mapping.<kind>
  const char* function;  // the unit's function table (analog/acam.h name)
  // Input range before calibration (aimc compile): wide enough for normalised activations,
  // or a positive range for functions defined there only.
  double default_lo, default_hi;
};

constexpr double kPositiveLo = 1.0 / 256.0, kPositiveHi = 16.0;

// silu has no IR op yet (no pass fuses x·sigmoid(x)); the row waits for it.
constexpr UnaryRow kUnaryRows[] = {
    {"gelu", "gelu", "gelu", -8.0, 8.0},
    {"Tanh", "tanh", "tanh", -8.0, 8.0},
    {"Sigmoid", "sigmoid", "sigmoid", -8.0, 8.0},
    {"silu", "silu", "silu", -8.0, 8.0},
    {"Exp", "exp", "exp", -8.0, 8.0},
    {"Log", "log", "log", kPositiveLo, kPositiveHi},
    {"Reciprocal", "reciprocal", "reciprocal", kPositiveLo, kPositiveHi},
    {"Sqrt", "sqrt", "sqrt", kPositiveLo, kPositiveHi},
};

std::string reject_unless_float(const ir::Node& node) {
  const ir::Value* x = node.input(0);
  if (x && x->dtype_known && x->dtype != DType::kF32) return "its input is not float32";
  return "";
}

}  // namespace

void add_acam_unary_lowerings(std::vector<Lowering>& registry) {
  for (const UnaryRow& row : kUnaryRows) {
    Lowering unary;
    unary.name = std::string("acam.") + row.kind;
    unary.op = row.op;
    unary.kind = row.kind;
    unary.selected_by = arch::Placement::kAcam;
    unary.placement = arch::Placement::kAcam;
    unary.engine = Engine::kAcamUnary;
    unary.acam_functions = {row.function};
    unary.reject = reject_unless_float;
    unary.schedule = [](const NodeSizes& sizes) {
      return std::vector<AcamStep>{{AcamStep::Kind::kSearch, 0, isa::AluOp::kAdd, sizes.output}};
    };
    const double lo = row.default_lo, hi = row.default_hi;
    unary.default_range = [lo, hi](int64_t, const NodeSizes&, const arch::AcamConfig&) {
      return std::pair<double, double>{lo, hi};
    };
    unary.description = std::string("y = ") + row.function + "(x) by one ACAM search per element";
    registry.push_back(std::move(unary));
  }
}

}  // namespace aimc::lowering::detail
