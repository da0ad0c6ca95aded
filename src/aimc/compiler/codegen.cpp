// The code generator of docs/isa.md §5. It walks the layers in graph order and appends each
// instruction to its core's program in one global order in which every send comes before its
// recv: with buffered sends the programs therefore cannot deadlock (isa::verify checks it).
#include "aimc/compiler/codegen.h"

#include <algorithm>
#include <map>
#include <set>

#include "aimc/core/error.h"
#include "aimc/core/int_math.h"

namespace aimc::compiler {

using isa::acam;
using isa::alu;
using isa::AluOp;
using isa::halt;
using isa::Instruction;
using isa::load;
using isa::mvm;
using isa::Program;
using isa::ProgramSet;
using isa::recv;
using isa::send;
using isa::store;
using isa::sync;

namespace {

// Input phases of a signed input (positive, then negative magnitudes: ANALOG_MODEL.md §1).
constexpr int64_t kPolarities = 2;

// Where one share of a layer's output lies once the layer is done.
struct Endpoint {
  int64_t core = 0;
  int64_t bytes = 0;
  int64_t addr = 0;  // core buffer address
};

// What feeds a value: mapped layers (found through the layout ops the mapping leaves out)
// and graph inputs. Constants feed nothing (they are resident).
struct Sources {
  std::vector<size_t> layers;
  std::vector<const ir::Value*> graph_inputs;
};

// The ALU operation a digital layer's elements take.
AluOp digital_alu_op(const std::string& op) {
  static const std::map<std::string, AluOp> kOps = {
      {"Add", AluOp::kAdd},
      {"Sub", AluOp::kSub},
      {"Mul", AluOp::kMul},
      {"Div", AluOp::kDiv},
      {"Max", AluOp::kMax},
      {"MaxPool", AluOp::kMax},
      {"GlobalMaxPool", AluOp::kMax},
      {"Relu", AluOp::kMax},
      {"Min", AluOp::kMin},
      {"linear", AluOp::kMac},
      {"matmul", AluOp::kMac},
      {"conv", AluOp::kMac},
      {"ReduceSum", AluOp::kReduceSum},
      {"ReduceMean", AluOp::kReduceSum},
      {"AveragePool", AluOp::kReduceSum},
      {"GlobalAveragePool", AluOp::kReduceSum},
      {"ReduceMax", AluOp::kReduceMax},
  };
  auto it = kOps.find(op);
  return it == kOps.end() ? AluOp::kKernel : it->second;
}

class Generator {
 public:
  Generator(const ir::Graph& graph, const Mapping& mapping, const arch::Architecture& arch)
      : graph_(graph), mapping_(mapping), arch_(arch), element_bytes_(activation_bytes(arch)) {
    const int64_t cores = std::max<int64_t>(1, mapping.cores_used);
    const int64_t cores_per_chip = arch.chip.tiles * arch.chip.cores_per_tile;
    programs_.resize(cores);
    next_address_.assign(cores, 0);
    for (int64_t core = 0; core < cores; ++core) {
      programs_[core].core = core;
      programs_[core].tile = core / arch.chip.cores_per_tile;
      programs_[core].chip = core / cores_per_chip;
    }
    for (size_t i = 0; i < mapping.layers.size(); ++i) layer_of_node_[mapping.layers[i].node] = i;
    endpoints_.resize(mapping.layers.size());
  }

  ProgramSet run() {
    for (size_t i = 0; i < mapping_.layers.size(); ++i) {
      const LayerMapping& layer = mapping_.layers[i];
      const ir::Node* node = graph_.find_node(layer.node);
      AIMC_ASSERT(node, "mapped layer '{}' is not a node of the graph", layer.node);
      current_layer_ = layer.node;
      switch (layer.kind) {
        case LayerKind::kCrossbar:
          crossbar_layer(i, *node);
          break;
        case LayerKind::kAcam:
          acam_layer(i, *node);
          break;
        case LayerKind::kDigital:
          digital_layer(i, *node);
          break;
      }
    }
    store_outputs();
    current_layer_.clear();
    for (Program& program : programs_) {
      program.instructions.push_back(sync(0));
      program.instructions.push_back(halt());
    }
    ProgramSet set;
    set.programs = std::move(programs_);
    return set;
  }

 private:
  void emit(int64_t core, Instruction instruction) {
    AIMC_ASSERT(core >= 0 && core < static_cast<int64_t>(programs_.size()),
                "layer '{}': core {} outside the {} cores mapped", current_layer_, core,
                programs_.size());
    instruction.layer = current_layer_;
    programs_[core].instructions.push_back(std::move(instruction));
  }

  // Buffers are bump-allocated per core and never reused (a later pass may fold them).
  int64_t allocate(int64_t core, int64_t bytes) {
    const int64_t addr = next_address_[core];
    next_address_[core] += bytes;
    return addr;
  }

  // Moves `bytes` from `src` on core `from` to a new buffer on core `to`; returns its address.
  int64_t transfer(int64_t from, int64_t to, int64_t bytes, int64_t src) {
    if (from == to) return src;
    const int64_t dst = allocate(to, bytes);
    emit(from, send(to, bytes, src));
    emit(to, recv(from, bytes, dst));
    return dst;
  }

  const Sources& sources(const ir::Value* value) {
    auto cached = sources_.find(value);
    if (cached != sources_.end()) return cached->second;
    Sources found;
    if (value && !value->is_constant()) {
      if (!value->producer) {
        if (std::find(graph_.inputs.begin(), graph_.inputs.end(), value) != graph_.inputs.end())
          found.graph_inputs.push_back(value);
      } else if (auto layer = layer_of_node_.find(value->producer->name);
                 layer != layer_of_node_.end()) {
        found.layers.push_back(layer->second);
      } else {
        for (const ir::Value* input : value->producer->inputs) {
          const Sources& upstream = sources(input);
          for (size_t l : upstream.layers)
            if (std::find(found.layers.begin(), found.layers.end(), l) == found.layers.end())
              found.layers.push_back(l);
          for (const ir::Value* v : upstream.graph_inputs)
            if (std::find(found.graph_inputs.begin(), found.graph_inputs.end(), v) ==
                found.graph_inputs.end())
              found.graph_inputs.push_back(v);
        }
      }
    }
    return sources_[value] = std::move(found);
  }

  Sources node_sources(const ir::Node& node) {
    Sources all;
    for (const ir::Value* input : node.inputs) {
      const Sources& s = sources(input);
      for (size_t l : s.layers)
        if (std::find(all.layers.begin(), all.layers.end(), l) == all.layers.end())
          all.layers.push_back(l);
      for (const ir::Value* v : s.graph_inputs)
        if (std::find(all.graph_inputs.begin(), all.graph_inputs.end(), v) ==
            all.graph_inputs.end())
          all.graph_inputs.push_back(v);
    }
    return all;
  }

  int64_t memory_address(const ir::Value* value, int64_t bytes) {
    auto it = memory_address_.find(value);
    if (it != memory_address_.end()) return it->second;
    const int64_t addr = next_memory_;
    next_memory_ += bytes;
    return memory_address_[value] = addr;
  }

  // Brings every input of `node` to `core`: graph inputs by load, layer outputs by messages
  // from each core holding a share. Returns the buffer address of the first input.
  int64_t deliver_inputs(const ir::Node& node, int64_t core) {
    const Sources all = node_sources(node);
    std::optional<int64_t> first;
    for (const ir::Value* input : all.graph_inputs) {
      const int64_t bytes = elements_per_inference(input) * element_bytes_;
      const int64_t dst = allocate(core, bytes);
      emit(core, load(memory_address(input, bytes), bytes, dst));
      if (!first) first = dst;
    }
    for (size_t producer : all.layers)
      for (const Endpoint& share : endpoints_[producer]) {
        const int64_t addr = transfer(share.core, core, share.bytes, share.addr);
        if (!first) first = addr;
      }
    return first.value_or(0);
  }

  // The first core holding a share of the output of the first layer that feeds `node`, else
  // core 0: where a digital layer runs.
  int64_t home_core(const ir::Node& node) {
    const Sources all = node_sources(node);
    for (size_t producer : all.layers)
      if (!endpoints_[producer].empty()) return endpoints_[producer].front().core;
    return 0;
  }

  void crossbar_layer(size_t index, const ir::Node& node) {
    const LayerMapping& layer = mapping_.layers[index];
    const int64_t blocks = layer.groups * layer.row_blocks * layer.col_blocks;
    const int64_t arrays_per_group = layer.slices * kPolarities;
    const int64_t replicas = std::max<int64_t>(1, layer.replicas);
    const int64_t vectors = layer.vectors_per_inference;
    const int64_t steps = arch_.input_steps();
    const int64_t rows_per_array = arch_.array.rows, cols_per_array = arch_.array.cols;
    struct Group {
      int64_t local, g, row_block, col_block, rows, cols;
    };
    std::map<int64_t, int64_t> groups_on_core;  // core -> core-local groups numbered so far
    std::map<int64_t, int64_t> input_on_core;   // core -> buffer address of the layer's input
    for (int64_t replica = 0; replica < replicas; ++replica) {
      // Replica r takes vectors r, r + R, r + 2R, ...
      const int64_t my_vectors = replica < vectors ? ceil_div(vectors - replica, replicas) : 0;
      std::map<int64_t, std::vector<Group>> placed;  // core -> its groups of this replica
      for (int64_t b = 0; b < blocks; ++b) {
        // A group lives on the core of its first array (a group wider than a core spills
        // into the next core, whose arrays it drives through the tile: ASSUMPTION).
        const int64_t first_array = (replica * blocks + b) * arrays_per_group;
        const int64_t core = layer.first_core + first_array / arch_.chip.arrays_per_core;
        AIMC_ASSERT(core < layer.first_core + std::max<int64_t>(1, layer.cores),
                    "layer '{}': group {} of replica {} falls outside its {} cores", layer.node, b,
                    replica, layer.cores);
        Group group;
        group.local = groups_on_core[core]++;
        group.g = b / (layer.row_blocks * layer.col_blocks);
        group.row_block = (b / layer.col_blocks) % layer.row_blocks;
        group.col_block = b % layer.col_blocks;
        group.rows = std::min(rows_per_array, layer.k - group.row_block * rows_per_array);
        group.cols = std::min(cols_per_array, layer.n - group.col_block * cols_per_array);
        placed[core].push_back(group);
      }
      if (my_vectors == 0 || placed.empty()) continue;
      const int64_t leader = placed.begin()->first;
      const int64_t partial_bytes_per_vector =
          layer.groups * layer.row_blocks * layer.n * kPartialSumBytes;
      const int64_t outputs_per_vector = layer.groups * layer.n;
      const int64_t outputs = my_vectors * outputs_per_vector;
      // A replica on one core post-processes each vector right after its mvms, so that its
      // ALU works while the arrays read the next vector (the cost model's overlap, and what a
      // cycle-level run shows: docs/simulate.md); a replica over several cores gathers every
      // vector's partial sums on its leader first.
      const bool one_core = placed.size() == 1;
      std::map<int64_t, int64_t> partial_addr;
      int64_t out = 0;
      for (const auto& [core, groups] : placed) {
        if (!input_on_core.count(core)) input_on_core[core] = deliver_inputs(node, core);
        const int64_t input = input_on_core[core];
        const int64_t partials = allocate(core, my_vectors * partial_bytes_per_vector);
        partial_addr[core] = partials;
        if (one_core) out = allocate(core, outputs * element_bytes_);
        for (int64_t i = 0; i < my_vectors; ++i) {
          const int64_t vector = replica + i * replicas;
          for (const Group& group : groups) {
            // The input row this group reads: conv's patches hold every group's channels
            // ([vector, group, K]); a matmul's A holds its matrices one after the other
            // ([group, vector, K]).
            const int64_t row =
                layer.op == "matmul" ? group.g * vectors + vector : vector * layer.groups + group.g;
            const int64_t src =
                input + (row * layer.k + group.row_block * rows_per_array) * element_bytes_;
            const int64_t dst =
                partials +
                (((i * layer.groups + group.g) * layer.row_blocks + group.row_block) * layer.n +
                 group.col_block * cols_per_array) *
                    kPartialSumBytes;
            emit(core, mvm(group.local, group.rows, group.cols, steps, src, dst));
          }
          if (one_core) {
            const int64_t partial = partials + i * partial_bytes_per_vector;
            if (layer.row_blocks > 1)
              emit(core,
                   alu(AluOp::kAdd, outputs_per_vector * (layer.row_blocks - 1), partial, partial));
            emit(core, alu(AluOp::kScale, outputs_per_vector, partial,
                           out + i * outputs_per_vector * element_bytes_));
          }
        }
      }
      if (one_core) {
        endpoints_[index].push_back({leader, outputs * element_bytes_, out});
        continue;
      }
      // The other cores of the replica send their partial sums to its leader, which adds the
      // row blocks and dequantises.
      for (const auto& [core, groups] : placed) {
        if (core == leader) continue;
        int64_t columns = 0;
        for (const Group& group : groups) columns += group.cols;
        transfer(core, leader, my_vectors * columns * kPartialSumBytes, partial_addr[core]);
      }
      if (layer.row_blocks > 1)
        emit(leader, alu(AluOp::kAdd, outputs * (layer.row_blocks - 1), partial_addr[leader],
                         partial_addr[leader]));
      out = allocate(leader, outputs * element_bytes_);
      emit(leader, alu(AluOp::kScale, outputs, partial_addr[leader], out));
      endpoints_[index].push_back({leader, outputs * element_bytes_, out});
    }
  }

  void acam_layer(size_t index, const ir::Node& node) {
    const LayerMapping& layer = mapping_.layers[index];
    AIMC_ASSERT(static_cast<int64_t>(layer.acam_functions.size()) == layer.acam_units,
                "layer '{}': {} ACAM units mapped, {} functions", layer.node, layer.acam_units,
                layer.acam_functions.size());
    const int64_t leader = layer.first_core;
    const int64_t elements = layer.output_elements;
    const int64_t input = deliver_inputs(node, leader);
    const int64_t work = allocate(leader, elements * element_bytes_);
    auto digital = [&](AluOp op, int64_t len) {
      if (len > 0) emit(leader, alu(op, len, input, work));
    };
    // Unit j sits on core first_core + j / units_per_core; the leader ships its operands
    // there and back when it is another core.
    auto search = [&](int64_t unit, int64_t len) {
      if (len <= 0) return;
      const int64_t units_per_core = arch_.chip.acam_units_per_core;
      const int64_t core = layer.first_core + unit / units_per_core;
      const int64_t bytes = len * element_bytes_;
      const int64_t src = transfer(leader, core, bytes, work);
      const int64_t dst = core == leader ? work : allocate(core, bytes);
      emit(core, acam(unit % units_per_core, len, src, dst));
      transfer(core, leader, bytes, dst);
    };
    // The lowering's schedule, step by step (lowering/lowering.h).
    for (const lowering::AcamStep& step : layer.acam_steps) {
      if (step.kind == lowering::AcamStep::Kind::kSearch)
        search(step.unit, step.elements);
      else
        digital(step.alu, step.elements);
    }
    endpoints_[index].push_back({leader, elements * element_bytes_, work});
  }

  void digital_layer(size_t index, const ir::Node& node) {
    const LayerMapping& layer = mapping_.layers[index];
    const int64_t core = home_core(node);
    const int64_t input = deliver_inputs(node, core);
    const int64_t bytes = layer.output_elements * element_bytes_;
    const int64_t out = allocate(core, bytes);
    if (layer.digital_ops_per_inference > 0)
      emit(core, alu(digital_alu_op(layer.op), layer.digital_ops_per_inference, input, out));
    endpoints_[index].push_back({core, bytes, out});
  }

  void store_outputs() {
    for (const ir::Value* output : graph_.outputs) {
      for (size_t producer : sources(output).layers) {
        current_layer_ = mapping_.layers[producer].node;
        int64_t offset = 0;
        const int64_t total = elements_per_inference(output) * element_bytes_;
        const int64_t base = memory_address(output, total);
        for (const Endpoint& share : endpoints_[producer]) {
          emit(share.core, store(share.addr, share.bytes, base + offset));
          offset += share.bytes;
        }
      }
    }
  }

  const ir::Graph& graph_;
  const Mapping& mapping_;
  const arch::Architecture& arch_;
  const int64_t element_bytes_;
  std::vector<Program> programs_;
  std::vector<int64_t> next_address_;
  int64_t next_memory_ = 0;
  std::map<const ir::Value*, int64_t> memory_address_;
  std::map<std::string, size_t> layer_of_node_;
  std::map<const ir::Value*, Sources> sources_;
  std::vector<std::vector<Endpoint>> endpoints_;
  std::string current_layer_;
};

}  // namespace

int64_t activation_bytes(const arch::Architecture& arch) {
  return ceil_div(arch.input.in_bits, 8);
}

int64_t mvm_count(const LayerMapping& layer) {
  if (layer.kind != LayerKind::kCrossbar) return 0;
  return layer.vectors_per_inference * layer.groups * layer.row_blocks * layer.col_blocks;
}

int64_t mvm_count(const Mapping& mapping) {
  int64_t total = 0;
  for (const LayerMapping& layer : mapping.layers) total += mvm_count(layer);
  return total;
}

std::vector<std::string> acam_unit_functions(const LayerMapping& layer) {
  return layer.kind == LayerKind::kAcam ? layer.acam_functions : std::vector<std::string>{};
}

ProgramSet generate_programs(const ir::Graph& graph, const Mapping& mapping,
                             const arch::Architecture& arch) {
  return Generator(graph, mapping, arch).run();
}

}  // namespace aimc::compiler
