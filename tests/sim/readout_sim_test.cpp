// readout.mode acam in the cost model and the simulator (docs/cost-model.md §1, docs/simulate.md):
// no ADC conversion anywhere, one readout search per output of each row block per vector,
// counted the same by `aimc estimate` and by the cycle-level run of the compiled program; the
// activations fused into a readout are no layers of their own; the chip has no ADCs but one
// readout unit per column of each core.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "aimc/api/estimate.h"
#include "aimc/api/model.h"
#include "aimc/api/simulate.h"
#include "aimc/arch/architecture.h"
#include "aimc/lowering/lowering.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

class ReadoutCosts : public ::testing::TestWithParam<std::string> {};

TEST_P(ReadoutCosts, EstimateAndSimulationCountOneSearchPerOutputAndNoConversion) {
  const std::unique_ptr<ir::Graph> graph =
      api::load_model_for_one_inference(kSource + "/models/" + GetParam() + ".onnx");
  const arch::Architecture arch = arch::load_architecture(kSource + "/presets/nldpe.yaml");
  api::SimulateRequest request;
  request.replicate = false;
  const api::SimulateResult r = api::simulate(*graph, arch, request);

  std::set<std::string> fused;
  for (const auto& node : graph->nodes()) {
    const lowering::Decision d = lowering::decide(*node, arch, graph.get());
    if (d.lowering && d.lowering->fused_readout) fused.insert(node->name);
  }
  // The ViT's GELUs and the CNN's first ReLU fuse; the MLP's layers have more than one row
  // block each, so its ReLUs run digitally.
  EXPECT_EQ(fused.empty(), GetParam() == "mlp-fmnist");
  std::map<std::string, double> sim_readouts;
  for (const sim::LayerSim& layer : r.sim.by_layer) {
    sim_readouts[layer.node] = layer.actions.at("acam_readout");
    EXPECT_EQ(layer.actions.at("adc"), 0.0) << layer.node;
  }
  int crossbar_layers = 0;
  for (size_t i = 0; i < r.mapping.layers.size(); ++i) {
    const compiler::LayerMapping& layer = r.mapping.layers[i];
    const cost::LayerCost& cost = r.estimate.by_layer[i];
    EXPECT_EQ(fused.count(layer.node), 0u) << layer.node << " is fused but a layer";
    EXPECT_EQ(cost.actions.at("adc"), 0.0) << layer.node;
    EXPECT_EQ(cost.actions.at("shift_add"), 0.0) << layer.node;
    if (layer.kind != compiler::LayerKind::kCrossbar) {
      EXPECT_EQ(cost.actions.at("acam_readout"), 0.0) << layer.node;
      continue;
    }
    ++crossbar_layers;
    EXPECT_FALSE(layer.readout_function.empty()) << layer.node;
    const double expected = static_cast<double>(layer.vectors_per_inference * layer.groups *
                                                layer.row_blocks * layer.n);
    EXPECT_EQ(cost.actions.at("acam_readout"), expected) << layer.node;
    EXPECT_DOUBLE_EQ(cost.energy_by_component_j.at("acam_readout"),
                     expected * arch.component("acam_readout").energy)
        << layer.node;
    ASSERT_EQ(sim_readouts.count(layer.node), 1u) << layer.node;
    EXPECT_DOUBLE_EQ(sim_readouts.at(layer.node), expected) << layer.node;
  }
  EXPECT_GT(crossbar_layers, 0);
  const double cores = static_cast<double>(arch.chip.tiles * arch.chip.cores_per_tile);
  for (const cost::ComponentTotal& c : r.estimate.by_component) {
    if (c.component == "adc" || c.component == "shift_add") {
      EXPECT_EQ(c.instances, 0.0);
    }
    if (c.component == "acam_readout") {
      EXPECT_EQ(c.instances, cores * arch.array.cols * static_cast<double>(r.estimate.chips));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Bundled, ReadoutCosts,
                         ::testing::Values("vit-fmnist", "cnn-fmnist", "mlp-fmnist"));

TEST(ReadoutCosts, ReadStepsWaitForNoConversion) {
  const arch::Architecture adc = arch::load_architecture(kSource + "/presets/race.yaml");
  const arch::Architecture acam =
      arch::load_architecture(kSource + "/presets/race.yaml", {"readout.mode=acam"});
  // race: 128 columns / 2 polarities x 0.8333 ns per conversion = 53.3 ns < the 100 ns array
  // read, so both steps are the read; a slow ADC shows the difference.
  const arch::Architecture slow_adc =
      arch::load_architecture(kSource + "/presets/race.yaml", {"components.adc.latency=1e-8"});
  const arch::Architecture slow_acam = arch::load_architecture(
      kSource + "/presets/race.yaml", {"components.adc.latency=1e-8", "readout.mode=acam"});
  EXPECT_DOUBLE_EQ(cost::read_step_s(adc, 128), cost::read_step_s(acam, 128));
  EXPECT_DOUBLE_EQ(cost::read_step_s(slow_adc, 128), 64 * 1e-8);
  EXPECT_DOUBLE_EQ(cost::read_step_s(slow_acam, 128), 1e-7);
}

}  // namespace
}  // namespace aimc
