// The data-dependent matrix products of attention (Q·Kᵀ, A·V) when mapping.matmul is acam:
// dmmul.mode picks log-domain ACAM units or int8 digital MACs here (ANALOG_MODEL.md §3), or
// crossbar arrays written per inference (crossbar.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering::detail {

namespace {

// Two dimensions that may be equal: both known and the same, or either not known yet (the
// graph `aimc eval` runs keeps attention's shapes symbolic; run time then decides).
bool may_equal(const ir::Dim& a, const ir::Dim& b) {
  return !a.known() || !b.known() || a.value == b.value;
}

}  // namespace

std::string reject_unless_batched_matmul(const ir::Node& node) {
  const ir::Value* a = node.input(0);
  const ir::Value* b = node.input(1);
  if (!a || !b || !a->shape || !b->shape) return "its operand ranks are unknown";
  const ir::SymShape& sa = *a->shape;
  const ir::SymShape& sb = *b->shape;
  if (sa.size() < 2 || sa.size() != sb.size())
    return fmt::format("its operands have ranks {} and {} (needs equal ranks >= 2)", sa.size(),
                       sb.size());
  for (size_t i = 0; i + 2 < sa.size(); ++i)
    if (!may_equal(sa[i], sb[i])) return "its operands' batch dimensions differ";
  if (!may_equal(sa.back(), sb[sb.size() - 2])) return "its contracted dimensions differ";
  if ((a->dtype_known && a->dtype != DType::kF32) || (b->dtype_known && b->dtype != DType::kF32))
    return "its operands are not float32";
  return "";
}

void add_dmmul_lowerings(std::vector<Lowering>& registry) {
  Lowering log_matmul = make_lowering(
      "acam.log_matmul", "matmul", "matmul", arch::Placement::kAcam, arch::Placement::kAcam,
      Engine::kAcamLogMatmul, "A·B as Σ ±exp(ln|a| + ln|b|): ln and exp units, sums digital");
  log_matmul.dmmul = arch::DmmulMode::kLogAcam;
  log_matmul.acam_functions = {"log", "exp"};
  log_matmul.reject = reject_unless_batched_matmul;
  log_matmul.schedule = [](const NodeSizes& sizes) {
    using Kind = AcamStep::Kind;
    return std::vector<AcamStep>{
        {Kind::kSearch, 0, isa::AluOp::kAdd, sizes.input + sizes.second_input},  // ln |operand|
        {Kind::kSearch, 1, isa::AluOp::kAdd, sizes.macs},  // exp of every sum of logarithms
        {Kind::kAlu, 0, isa::AluOp::kAdd, sizes.macs}};    // the sums
  };
  log_matmul.default_range = [](int64_t unit, const NodeSizes&, const arch::AcamConfig& acam) {
    // ln over [max·2^-(in_bits+2), max] with max = 8 (normalised activations, ASSUMPTION).
    const double hi = 8.0, lo = hi * std::ldexp(1.0, -(acam.in_bits + 2));
    if (unit == 0) return std::pair<double, double>{lo, hi};
    return std::pair<double, double>{2.0 * std::log(lo), 2.0 * std::log(hi)};
  };
  registry.push_back(std::move(log_matmul));

  Lowering int8 = make_lowering("digital.int8_matmul", "matmul", "matmul", arch::Placement::kAcam,
                                arch::Placement::kDigital, Engine::kInt8Matmul,
                                "A·B in symmetric int8 on the digital ALUs");
  int8.dmmul = arch::DmmulMode::kDigital;
  int8.reject = reject_unless_batched_matmul;
  registry.push_back(std::move(int8));
}

}  // namespace aimc::lowering::detail
