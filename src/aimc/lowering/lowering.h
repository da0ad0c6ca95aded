// The one registry of analog lowerings: for every op that can leave the digital ALUs, where it
// runs on the chip (crossbar arrays, ACAM function units), which `mapping.<kind>` key of the
// architecture selects it, which conditions the node must meet (2-D convolutions only, softmax
// over the last axis, ...), which ACAM function tables its units hold and the schedule of
// searches and ALU operations one inference takes. The analog executor (analog/), the mapping
// and code generator (compiler/), the cost model (cost/, through the mapping) and the CLI all
// read this registry, so `aimc estimate`, `aimc compile` and `aimc eval` place every node the
// same way. docs/dev/lowering.md tells how to add an op.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/ir/graph.h"
#include "aimc/isa/instruction.h"

namespace aimc::lowering {

// The engine of analog/ that runs a lowered node (analog/engines.h implements each).
enum class Engine {
  kCrossbarLinear,  // linear: y = x·W + b on crossbar arrays
  kCrossbarConv,    // 2-D conv as im2col · W per group on crossbar arrays
  kCrossbarMatmul,  // matmul A·B with B written into arrays per matrix (dmmul.mode crossbar)
  kAcamUnary,       // y = f(x) element-wise on one ACAM unit
  kAcamSoftmax,     // exp and reciprocal units, max/subtract/sum/multiply digital
  kAcamLayerNorm,   // rsqrt unit per row, the rest digital
  kAcamLogMatmul,   // A·B as Σ ±exp(ln|a| + ln|b|) (dmmul.mode log_acam)
  kInt8Matmul,      // A·B in int8 digital MACs (dmmul.mode digital)
  // readout.mode acam (NL-DPE, docs/analog-model.md, "ADC-less readout"): the crossbar engines with
  // each output's analog value read by a readout ACAM tree, and the activation such a readout
  // computes in its producer's place.
  kReadoutLinear,
  kReadoutConv,
  kReadoutFused,
};

// One step of an ACAM layer's work for one inference, in order: a search of unit `unit` over
// `elements` inputs, or an ALU operation over `elements` elements on the layer's core.
struct AcamStep {
  enum class Kind { kSearch, kAlu };
  Kind kind = Kind::kSearch;
  int64_t unit = 0;                   // kSearch
  isa::AluOp alu = isa::AluOp::kAdd;  // kAlu
  int64_t elements = 0;
};

// How many elements a node touches per inference (unknown dimensions, the batch, count as 1),
// the facts a schedule is computed from.
struct NodeSizes {
  int64_t input = 0;         // elements of input 0
  int64_t second_input = 0;  // elements of input 1 (0 when there is none)
  int64_t output = 0;        // elements of output 0
  int64_t row = 1;           // last dimension of input 0 (softmax / layer norm rows)
  int64_t macs = 0;          // matmul: output elements × the contracted dimension
};
NodeSizes node_sizes(const ir::Node& node);

// Elements of a value per inference: unknown dimensions (the batch) count as 1; 0 when even
// the rank is unknown.
int64_t elements_per_inference(const ir::Value* value);
// The last dimension of a value, at least 1 (1 when unknown).
int64_t last_dim(const ir::Value* value);

struct Lowering {
  std::string name;  // unique, e.g. "crossbar.linear", "acam.gelu", "acam.softmax"
  std::string op;    // the IR op it takes
  std::string kind;  // the `mapping.<kind>` key that selects it
  // The value of mapping.<kind> that selects it (crossbar or acam).
  arch::Placement selected_by = arch::Placement::kDigital;
  // matmul lowerings: the dmmul.mode they implement (others: any).
  std::optional<arch::DmmulMode> dmmul;
  // Crossbar lowerings of weight matrices: the readout.mode they implement (others: any).
  std::optional<arch::ReadoutMode> readout;
  // An activation that the readout of its producer computes (kReadoutFused): chosen by
  // decide() from the graph around the node, never by a mapping key.
  bool fused_readout = false;
  // Where the node then runs: crossbar, acam, or digital (int8 matmul).
  arch::Placement placement = arch::Placement::kDigital;
  Engine engine = Engine::kAcamUnary;
  // ACAM lowerings: the function table of each unit, in unit order (analog/acam.h names).
  std::vector<std::string> acam_functions;
  // Why the node cannot take this lowering, or "" when it can (conditions beyond op and
  // mapping, e.g. "a 1-D convolution: crossbars take 2-D convolutions only").
  std::function<std::string(const ir::Node& node)> reject;
  // Crossbar lowerings of a weight matrix: input 1 must be a constant (else bad input).
  bool needs_constant_weight = false;
  // ACAM lowerings: the searches and ALU operations of one inference.
  std::function<std::vector<AcamStep>(const NodeSizes& sizes)> schedule;
  // ACAM lowerings: the input range of unit `unit` before calibration (what `aimc compile`
  // programs; `aimc eval` calibrates on data instead, docs/isa.md §6).
  std::function<std::pair<double, double>(int64_t unit, const NodeSizes& sizes,
                                          const arch::AcamConfig& acam)>
      default_range;
  std::string description;  // one line for `aimc inspect --arch` and docs
};

// Every lowering, in a fixed order.
const std::vector<Lowering>& lowerings();
const Lowering* find_lowering(const std::string& name);

// The mapping.<kind> keys of the registry with the placement that selects each.
std::vector<std::pair<std::string, arch::Placement>> mapping_kinds();

// Where one node runs on an architecture, and why.
struct Decision {
  const Lowering* lowering = nullptr;  // nullptr: the node's digital fp32 kernel
  arch::Placement placement = arch::Placement::kDigital;
  std::string why;
  // readout.mode acam: the function a crossbar layer's readout trees compute (identity, or
  // the fused activation), and the node it is fused with (the activation of a crossbar layer,
  // the crossbar layer of an activation); "" and nullptr otherwise.
  std::string readout_function;
  const ir::Node* fused_with = nullptr;
};

// The one placement decision. Throws Error(kBadInput) naming the node when the mapping puts
// it on crossbars but its weight is not a constant. Fusing an activation into the readout of
// its producer (readout.mode acam) looks at the node's neighbours, so every caller that
// places a whole graph passes it; without a graph nothing is fused.
Decision decide(const ir::Node& node, const arch::Architecture& arch,
                const ir::Graph* graph = nullptr);

// readout.mode acam: the analog/acam.h function whose op `op` is when a readout can fuse it
// (Relu -> relu, gelu, silu, Sigmoid -> sigmoid, Tanh -> tanh); "" for other ops.
std::string fusable_function(const std::string& op);
// Row blocks of a crossbar layer's weight (ceil(K / array.rows)); 0 for other nodes.
int64_t weight_row_blocks(const ir::Node& node, const arch::Architecture& arch);

// One row of the placement table of a graph (`aimc inspect --arch`).
struct NodePlacement {
  std::string node, op;
  arch::Placement placement = arch::Placement::kDigital;
  std::string lowering;  // "" for the digital kernel
  std::string why;
};
std::vector<NodePlacement> place_graph(const ir::Graph& graph, const arch::Architecture& arch);

// Σ of the steps' elements of one kind (searches, ALU operations).
int64_t total_elements(const std::vector<AcamStep>& steps, AcamStep::Kind kind);

}  // namespace aimc::lowering
