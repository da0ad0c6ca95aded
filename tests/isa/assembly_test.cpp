// The assembly text: hand-written programs round-trip, the reader's errors name the line, and
// the verifier catches programs that cannot run.
#include "aimc/isa/assembly.h"

#include <gtest/gtest.h>

#include "aimc/core/error.h"
#include "aimc/isa/program.h"

namespace aimc::isa {

// Failures print instructions as assembly text.
inline void PrintTo(const Instruction& instruction, std::ostream* os) {
  Program program;
  program.instructions = {instruction};
  *os << write_assembly(program);
}

namespace {

Instruction in_layer(Instruction instruction, const std::string& layer) {
  instruction.layer = layer;
  return instruction;
}

Program every_opcode() {
  Program program;
  program.core = 3;
  program.tile = 1;
  program.chip = 0;
  program.instructions = {
      in_layer(load(4096, 784, 0), "/conv1/Conv"),
      in_layer(mvm(2, 128, 72, 7, 0, 1024), "/conv1/Conv"),
      in_layer(alu(AluOp::kScale, 200, 1024, 2048), "/conv1/Conv"),
      in_layer(acam(1, 17, 2048, 3072), "odd name # with hash and  spaces"),
      in_layer(alu(AluOp::kReduceMax, 5, 0, 0), ""),
      in_layer(send(0, 3200, 1024), "fc"),
      in_layer(recv(5, 12, 9000), "fc"),
      in_layer(store(2048, 200, 100000), "fc"),
      sync(7),
      halt(),
  };
  return program;
}

TEST(Assembly, HandWrittenProgramRoundTrips) {
  const Program program = every_opcode();
  const std::string text = write_assembly(program, "a header\nover two lines");
  const Program parsed = parse_assembly(text, "hand.s");
  EXPECT_EQ(parsed, program) << text;
  EXPECT_EQ(write_assembly(parsed, "a header\nover two lines"), text);
}

TEST(Assembly, WritesOneInstructionPerLineInOperandOrder) {
  Program program;
  program.core = 2;
  program.instructions = {in_layer(mvm(1, 128, 64, 7, 16, 32), "fc"), halt()};
  EXPECT_EQ(write_assembly(program),
            ".core 2\n.tile 0\n.chip 0\n.layer fc\n"
            "mvm group=1 rows=128 cols=64 steps=7 src=16 dst=32\n"
            ".layer\nhalt\n");
}

TEST(Assembly, ReadsCommentsBlankLinesAndAnyOperandOrder) {
  const std::string text =
      "# a program\n"
      "\n"
      ".core 5   # the fifth\n"
      "  alu dst=3 len=10 op=max src=1   # relu\n"
      "recv bytes=8 peer=1 dst=0\n"
      "halt\n";
  Program program = parse_assembly(text, "p.s");
  EXPECT_EQ(program.core, 5);
  ASSERT_EQ(program.instructions.size(), 3u);
  EXPECT_EQ(program.instructions[0], alu(AluOp::kMax, 10, 1, 3));
  EXPECT_EQ(program.instructions[1], recv(1, 8, 0));
  EXPECT_EQ(program.instructions[2], halt());
}

void expect_error_at(const std::string& text, const std::string& where,
                     const std::string& fragment) {
  try {
    parse_assembly(text, "bad.s");
    ADD_FAILURE() << "expected an error for:\n" << text;
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput);
    const std::string message = error.what();
    EXPECT_NE(message.find(where), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(Assembly, ReaderErrorsNameTheFileAndLine) {
  const std::string ok = ".core 0\n# comment\n";
  expect_error_at(ok + "frob x=1\n", "bad.s:3", "unknown opcode \"frob\"");
  expect_error_at(ok + "mvm group=0 rows=1 cols=1 steps=1 src=0\n", "bad.s:3", "needs dst=");
  expect_error_at(ok + "sync barrier=0 colour=3\n", "bad.s:3", "no operand \"colour\"");
  expect_error_at(ok + "sync barrier=0 barrier=1\n", "bad.s:3", "given twice");
  expect_error_at(ok + "send peer=1 bytes=ten src=0\n", "bad.s:3", "not an integer");
  expect_error_at(ok + "send peer=1 bytes=-4 src=0\n", "bad.s:3", "must be >= 0");
  expect_error_at(ok + "alu op=frobnicate len=1 src=0 dst=0\n", "bad.s:3", "unknown alu op");
  expect_error_at(ok + "alu len=1 src=0 dst=0\n", "bad.s:3", "needs op=");
  expect_error_at(ok + "halt now\n", "bad.s:3", "key=value");
  expect_error_at("\n\n\n.cores 1\n", "bad.s:4", "unknown directive");
  expect_error_at(".core x\n", "bad.s:1", "not an integer");
}

Program program_of(int64_t core, std::vector<Instruction> instructions) {
  Program program;
  program.core = core;
  program.instructions = std::move(instructions);
  return program;
}

TEST(Verify, AcceptsMatchedMessagesAndBarriers) {
  ProgramSet set;
  set.programs = {program_of(0, {send(1, 8, 0), recv(1, 4, 0), sync(0), halt()}),
                  program_of(1, {recv(0, 8, 0), send(0, 4, 0), sync(0), halt()})};
  EXPECT_EQ(verify(set), "");
}

TEST(Verify, FindsEveryKindOfBrokenProgram) {
  ProgramSet set;
  set.programs = {program_of(0, {send(1, 8, 0), halt()}), program_of(1, {recv(0, 9, 0), halt()})};
  EXPECT_NE(verify(set).find("bytes=9 but the message sent is 8 bytes"), std::string::npos)
      << verify(set);

  set.programs = {program_of(0, {recv(1, 8, 0), send(1, 8, 0), halt()}),
                  program_of(1, {recv(0, 8, 0), send(0, 8, 0), halt()})};
  EXPECT_NE(verify(set).find("deadlock"), std::string::npos) << verify(set);

  set.programs = {program_of(0, {send(1, 8, 0), halt()}), program_of(1, {halt()})};
  EXPECT_NE(verify(set).find("never received"), std::string::npos) << verify(set);

  set.programs = {program_of(0, {sync(0)}), program_of(1, {sync(0), halt()})};
  EXPECT_NE(verify(set).find("core 0: the program does not end with halt"), std::string::npos)
      << verify(set);

  set.programs = {program_of(0, {sync(0), halt()}), program_of(1, {sync(1), halt()})};
  EXPECT_NE(verify(set).find("sync barrier=1"), std::string::npos) << verify(set);

  set.programs = {program_of(0, {sync(0), halt()}), program_of(1, {halt()})};
  EXPECT_NE(verify(set).find("never reaches"), std::string::npos) << verify(set);

  set.programs = {program_of(0, {send(0, 8, 0), halt()})};
  EXPECT_NE(verify(set).find("not another core"), std::string::npos) << verify(set);

  set.programs = {program_of(1, {halt()})};
  EXPECT_NE(verify(set).find("program 0 is for core 1"), std::string::npos) << verify(set);
}

}  // namespace
}  // namespace aimc::isa
