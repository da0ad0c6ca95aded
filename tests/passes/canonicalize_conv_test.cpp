#include "pass_test_util.h"

namespace aimc::passes::test {
namespace {

std::unique_ptr<ir::Graph> conv_graph(const ir::SymShape& input, const Shape& weight,
                                      std::map<std::string, ir::AttrValue> attrs) {
  GraphBuilder b;
  ir::Value* x = b.input("x", input);
  b.output(b.op("Conv",
                {x, b.constant("w", random_tensor(weight, 1)),
                 b.constant("b", random_tensor({weight[0]}, 2))},
                std::move(attrs), "conv"));
  return b.finish();
}

TEST(CanonicalizeConv, SameUpperBecomesExplicitPads) {
  auto graph = conv_graph(
      ir::to_sym_shape({1, 2, 7, 8}), {3, 2, 3, 2},
      {{"auto_pad", std::string("SAME_UPPER")}, {"strides", std::vector<int64_t>{2, 2}}});
  auto after = run_and_compare(*graph, canonicalize_conv, 1);
  const ir::Node* conv = after->find_node("conv");
  EXPECT_EQ(conv->op, "conv");
  EXPECT_FALSE(conv->has_attr("auto_pad"));
  EXPECT_EQ(conv->attr_ints("kernel_shape"), (std::vector<int64_t>{3, 2}));
  // Axis 0: out 4, total pad (4-1)*2+3-7 = 2 -> 1, 1. Axis 1: out 4, total (4-1)*2+2-8 = 0.
  EXPECT_EQ(conv->attr_ints("pads"), (std::vector<int64_t>{1, 0, 1, 0}));
  EXPECT_EQ(conv->attr_ints("strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv->attr_ints("dilations"), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(conv->attr_int("group", -1), 1);
}

TEST(CanonicalizeConv, SameLowerPutsTheOddPadFirst) {
  auto graph =
      conv_graph(ir::to_sym_shape({1, 1, 6}), {1, 1, 4}, {{"auto_pad", std::string("SAME_LOWER")}});
  auto after = run_and_compare(*graph, canonicalize_conv, 1);
  EXPECT_EQ(after->find_node("conv")->attr_ints("pads"), (std::vector<int64_t>{2, 1}));
}

TEST(CanonicalizeConv, GroupsDilationsAndSymbolicBatch) {
  auto graph = conv_graph(
      {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(9), ir::Dim::of(9)}, {6, 2, 3, 3},
      {{"group", int64_t{2}},
       {"dilations", std::vector<int64_t>{2, 1}},
       {"pads", std::vector<int64_t>{0, 1, 2, 1}}});
  auto after = run_and_compare(*graph, canonicalize_conv, 1, {{"batch", 2}});
  const ir::Node* conv = after->find_node("conv");
  EXPECT_EQ(conv->attr_ints("pads"), (std::vector<int64_t>{0, 1, 2, 1}));
  EXPECT_EQ(conv->attr_ints("dilations"), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(conv->attr_int("group", -1), 2);
}

TEST(CanonicalizeConv, SamePaddingOnUnknownSizesStaysConv) {
  auto graph = conv_graph({ir::Dim::of(1), ir::Dim::of(2), ir::Dim::symbolic("h"), ir::Dim::of(5)},
                          {2, 2, 3, 3}, {{"auto_pad", std::string("SAME_UPPER")}});
  auto after = run_and_compare(*graph, canonicalize_conv, 0, {{"h", 5}});
  EXPECT_EQ(after->find_node("conv")->op, "Conv");
  // With explicit pads the unknown size does not matter.
  graph = conv_graph({ir::Dim::of(1), ir::Dim::of(2), ir::Dim::symbolic("h"), ir::Dim::of(5)},
                     {2, 2, 3, 3}, {});
  after = run_and_compare(*graph, canonicalize_conv, 1, {{"h", 5}});
  EXPECT_EQ(after->find_node("conv")->attr_ints("pads"), (std::vector<int64_t>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace aimc::passes::test
