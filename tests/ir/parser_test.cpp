// ir::parse_graph on hand-written text: what it builds, and the message of each kind of error.
#include "aimc/ir/parser.h"

#include <gtest/gtest.h>

#include "aimc/ir/op_registry.h"

namespace aimc::ir {
namespace {

std::string error_of(const std::string& text, const ParseOptions& options = {}) {
  try {
    parse_graph(text, "t.ir", options);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

const char* const kHeader = "graph g(%x: f32[n, 3]) -> (%y: f32[n, 3]) {\n";

TEST(IrParser, BuildsInputsConstantsNodesAndAttributes) {
  auto graph = parse_graph(
      "// leading comment\n"
      "graph g(%x: f32[n, ?, 3]) -> (%y: f32[*], %shape: i64[3]) {\n"
      "  @w: i64[2] = [-1, 3]\n"
      "  // a comment line\n"
      "  %r: ?[*] = Reshape(%x, @w) {allowzero = 0}  // reshape node\n"
      "  %y: f32[*], none = Dropout(%r, none, none) {seed = 5}\n"
      "  %shape: i64[3] = Shape(%x)  // \"quoted \\\"name\\\"\"\n"
      "}\n");
  EXPECT_EQ(graph->name, "g");
  ASSERT_EQ(graph->inputs.size(), 1u);
  EXPECT_EQ(*graph->inputs[0]->shape, (SymShape{Dim::symbolic("n"), Dim{}, Dim::of(3)}));
  const Value* w = graph->find_value("w");
  ASSERT_TRUE(w && w->is_constant());
  EXPECT_EQ(w->constant.to_int_vector(), (std::vector<int64_t>{-1, 3}));
  ASSERT_EQ(graph->nodes().size(), 3u);
  const Node& reshape = *graph->nodes()[0];
  EXPECT_EQ(reshape.name, "reshape node");
  EXPECT_EQ(reshape.attr_int("allowzero", 9), 0);
  EXPECT_FALSE(reshape.outputs[0]->dtype_known);
  EXPECT_FALSE(reshape.outputs[0]->shape.has_value());
  const Node& dropout = *graph->nodes()[1];
  EXPECT_EQ(dropout.inputs[1], nullptr);
  EXPECT_EQ(dropout.outputs[1], nullptr);
  EXPECT_FALSE(dropout.name.empty());  // made up from the op when the text gives none
  EXPECT_EQ(graph->nodes()[2]->name, "quoted \"name\"");
  ASSERT_EQ(graph->outputs.size(), 2u);
  EXPECT_EQ(graph->outputs[1]->name, "shape");
}

TEST(IrParser, ListsTakeTheSchemasElementType) {
  auto graph = parse_graph(
      "graph g(%x: f32[2, 3]) -> (%y: f32[2, 3]) {\n"
      "  %y: f32[2, 3] = LeakyRelu(%x) {alpha = 0.5}\n"
      "}\n");
  EXPECT_EQ(graph->nodes()[0]->attr_float("alpha", 0), 0.5);
  auto strings = parse_graph(
      "graph g(%x: f32[2]) -> (%y: f32[2]) {\n"
      "  %y: f32[2] = Identity(%x) {names = [\"a\", \"b\"], f = [1, 2.5], i = [1, 2]}\n"
      "}\n");
  const Node& node = *strings->nodes()[0];
  EXPECT_EQ(std::get<std::vector<std::string>>(node.attrs.at("names")),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(node.attr_floats("f"), (std::vector<double>{1, 2.5}));
  EXPECT_EQ(node.attr_ints("i"), (std::vector<int64_t>{1, 2}));
}

TEST(IrParser, ConstantWithoutValuesIsAnErrorUnlessZeroFilled) {
  std::string text = std::string(kHeader) +
                     "  @w: f32[3]\n"
                     "  %y: f32[n, 3] = Add(%x, @w)\n"
                     "}\n";
  EXPECT_EQ(error_of(text),
            "t.ir:2:3: constant @w has no values (write `= [...]`, or ask for zero-filled "
            "placeholders)");
  ParseOptions zero_fill;
  zero_fill.zero_fill_constants = true;
  auto graph = parse_graph(text, "t.ir", zero_fill);
  auto values = graph->find_value("w")->constant.values<float>();
  EXPECT_EQ(std::vector<float>(values.begin(), values.end()), (std::vector<float>{0, 0, 0}));
  zero_fill.max_zero_fill_bytes = 8;
  EXPECT_EQ(error_of(text, zero_fill),
            "t.ir:2:3: constant @w: f32[3] is too large for a zero-filled placeholder");
}

TEST(IrParser, DefaultPrintedFormReadsBackWithZeroFill) {
  std::string text = std::string(kHeader) +
                     "  @w: f32[3] = [1.5, -2.0, 0.25]\n"
                     "  %y: f32[n, 3] = Add(%x, @w) {}  // add\n"
                     "}\n";
  text.replace(text.find(" {}"), 3, "");
  auto graph = parse_graph(text);
  ParseOptions zero_fill;
  zero_fill.zero_fill_constants = true;
  auto from_default = parse_graph(print_graph(*graph), "default.ir", zero_fill);
  EXPECT_EQ(print_graph(*from_default), print_graph(*graph));
}

struct BadText {
  const char* label;
  std::string body;  // after kHeader
  std::string message;
};

class IrParserError : public ::testing::TestWithParam<BadText> {};

TEST_P(IrParserError, NamesLineColumnAndWhatWasExpected) {
  EXPECT_EQ(error_of(kHeader + GetParam().body), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, IrParserError,
    ::testing::Values(
        BadText{"UnknownOp", "  %y: f32[n, 3] = Frobnicate(%x)\n}\n",
                "t.ir:2:19: unknown op 'Frobnicate'"},
        BadText{"UndefinedValue", "  %y: f32[n, 3] = Relu(%z)\n}\n",
                "t.ir:2:24: %z is not defined before this use"},
        BadText{"WrongSigil", "  @c: f32[] = [1.0]\n  %y: f32[n, 3] = Add(%x, %c)\n}\n",
                "t.ir:3:27: %c is a constant: write @c"},
        BadText{"DefinedTwice", "  %x: f32[n, 3] = Relu(%x)\n  %y: f32[n, 3] = Relu(%x)\n}\n",
                "t.ir:2:3: value %x is defined twice"},
        BadText{"MissingParen", "  %y: f32[n, 3] = Relu(%x\n}\n",
                "t.ir:3:1: expected ',' or ')' after an operand, found '}'"},
        BadText{"BadDtype", "  %y: float[n, 3] = Relu(%x)\n}\n",
                "t.ir:2:7: expected a type (f32, i64, ... or ?), found 'float'"},
        BadText{"BadDimension", "  %y: f32[n, -3] = Relu(%x)\n}\n",
                "t.ir:2:14: expected a dimension (a size, a symbol or ?), found '-3'"},
        BadText{"WrongValueCount", "  @c: f32[2] = [1.0]\n  %y: f32[n, 3] = Add(%x, @c)\n}\n",
                "t.ir:2:16: constant @c: f32[2] holds 2 values, found 1"},
        BadText{"BadValue", "  @c: i8[2] = [1, 300]\n  %y: f32[n, 3] = Add(%x, @c)\n}\n",
                "t.ir:2:19: expected a value of type i8, found '300'"},
        BadText{"UnterminatedString", "  %y: f32[n, 3] = Relu(%x) {mode = \"abc}\n}\n",
                "t.ir:2:36: unterminated string"},
        BadText{"BadEscape", "  %y: f32[n, 3] = Relu(%x) {mode = \"a\\qb\"}\n}\n",
                "t.ir:2:38: unknown escape '\\q' in a string (use \\\" \\\\ \\n \\t or \\xHH)"},
        BadText{"DuplicateAttribute", "  %y: f32[n, 3] = Relu(%x) {a = 1, a = 2}\n}\n",
                "t.ir:2:36: attribute 'a' is given twice"},
        BadText{"MixedList", "  %y: f32[n, 3] = Relu(%x) {a = [1, \"b\"]}\n}\n",
                "t.ir:2:33: a list mixes strings and numbers"},
        BadText{"BadAttributeValue", "  %y: f32[n, 3] = Relu(%x) {a = banana}\n}\n",
                "t.ir:2:33: expected an attribute value (number, string, list or tensor<...>), "
                "found 'banana'"},
        BadText{"DuplicateNodeName",
                "  %a: f32[n, 3] = Relu(%x)  // r\n  %y: f32[n, 3] = Relu(%a)  // r\n}\n",
                "t.ir:3:19: node name 'r' is used twice"},
        BadText{"OutputNeverDefined", "  %z: f32[n, 3] = Relu(%x)\n}\n",
                "t.ir:1:28: graph output %y is never defined"},
        BadText{"OutputTypeDiffers", "  %y: f32[n, 4] = Relu(%x)\n}\n",
                "t.ir:1:28: graph output %y is declared f32[n, 3] here but defined as f32[n, 4]"},
        BadText{"MissingBrace", "  %y: f32[n, 3] = Relu(%x)\n",
                "t.ir:3:1: expected a constant (@name: type = [...]), a node (%name: type = "
                "op(...)) or '}', found the end of the text"},
        BadText{"TrailingText", "  %y: f32[n, 3] = Relu(%x)\n}\ngraph",
                "t.ir:4:1: expected the end of the text after the graph, found 'graph'"},
        BadText{"UnexpectedByte", "  %y: f32[n, 3] = Relu(%x) \x01\n}\n",
                "t.ir:2:28: unexpected byte 0x01"},
        BadText{"SymbolicConstant", "  @c: f32[n] = [1.0]\n  %y: f32[n, 3] = Add(%x, @c)\n}\n",
                "t.ir:2:7: constant @c needs a dtype and sizes for every dimension, found f32[n]"},
        BadText{"VerifierFailure", "  %y: f32[n, 3] = Add(%x)  // add\n}\n",
                "t.ir:2:19: node 'add' (Add): has 1 inputs, Add takes 2 to 2"}),
    [](const ::testing::TestParamInfo<BadText>& info) { return info.param.label; });

TEST(IrParser, ErrorOnTheFirstLineNamesIt) {
  EXPECT_EQ(error_of("grap g() -> () {}"), "t.ir:1:1: expected 'graph', found 'grap'");
  EXPECT_EQ(error_of(""), "t.ir:1:1: expected 'graph', found the end of the text");
  EXPECT_EQ(error_of("graph g(%x f32[1]) -> () {}"),
            "t.ir:1:12: expected ':' and the input's type, found 'f32'");
}

}  // namespace
}  // namespace aimc::ir
