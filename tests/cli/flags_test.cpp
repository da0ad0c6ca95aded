// One meaning per short flag across the whole tool, read from every subcommand's --help (the
// list of subcommands comes from `aimc --help`, so a new one is covered); and --threads is
// bounded.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cli/run_aimc.h"

namespace aimc {
namespace {

using test::run_aimc;

// The names listed under "Subcommands:" of a help text.
std::vector<std::string> subcommands(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream lines(help.substr(help.find("Subcommands:") + 12));
  static const std::regex entry(R"(^  ([a-z]+)\s)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, entry)) names.push_back(m[1]);
  }
  return names;
}

// Short letter -> the long names it is listed with ("-o,--output,--output-dir").
std::map<char, std::set<std::string>> short_flags(const std::string& help) {
  std::map<char, std::set<std::string>> flags;
  std::istringstream lines(help);
  static const std::regex option(R"(^\s+(-[A-Za-z](?:,--[a-z][a-z0-9-]*)+))");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, option)) continue;
    std::string names = m[1];
    const char letter = names[1];
    std::istringstream parts(names.substr(3));
    for (std::string name; std::getline(parts, name, ',');) flags[letter].insert(name);
  }
  return flags;
}

TEST(Flags, EveryShortFlagMeansTheSameInEveryCommand) {
  std::vector<std::string> commands;
  for (const std::string& sub : subcommands(run_aimc("--help").out)) {
    const std::string help = run_aimc(sub + " --help").out;
    if (help.find("Subcommands:") == std::string::npos) {
      commands.push_back(sub);
      continue;
    }
    for (const std::string& nested : subcommands(help)) commands.push_back(sub + " " + nested);
  }
  ASSERT_GE(commands.size(), 9u);                // inspect run eval arch estimate compile trees x3
  std::map<char, std::set<std::string>> common;  // the long names every use shares
  std::map<char, std::string> first_user;
  for (const std::string& command : commands) {
    const test::CliRun help = run_aimc(command + " --help");
    ASSERT_EQ(help.exit_code, 0) << command;
    for (const auto& [letter, names] : short_flags(help.out)) {
      if (letter == 'h') continue;  // --help, CLI11's own
      if (!common.count(letter)) {
        common[letter] = names;
        first_user[letter] = command;
        continue;
      }
      std::set<std::string> shared;
      for (const std::string& name : names)
        if (common[letter].count(name)) shared.insert(name);
      EXPECT_FALSE(shared.empty())
          << "-" << letter << " means " << *names.begin() << " in aimc " << command << " but "
          << *common[letter].begin() << " in aimc " << first_user[letter];
      common[letter] = shared;
    }
  }
  EXPECT_EQ(common['t'], std::set<std::string>{"--trials"});
  EXPECT_EQ(common['n'], std::set<std::string>{"--limit"});
}

TEST(Flags, ThreadsOutsideItsRangeIsExitTwoNamingTheFlag) {
  for (const char* bad : {"0", "100000", "-1", "many"}) {
    const test::CliRun run = run_aimc(std::string("--threads ") + bad + " arch --describe");
    EXPECT_EQ(run.exit_code, 2) << bad;
    EXPECT_NE(run.err.find("--threads"), std::string::npos) << run.err;
  }
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const int most = static_cast<int>(std::min(4u * hw, 256u));
  EXPECT_EQ(run_aimc("--threads 1 arch --describe").exit_code, 0);
  EXPECT_EQ(run_aimc("--threads " + std::to_string(most) + " arch --describe").exit_code, 0);
  EXPECT_EQ(run_aimc("--threads " + std::to_string(most + 1) + " arch --describe").exit_code, 2);
}

TEST(Flags, CountsBelowOneSayTheirIntegerRange) {
  const std::string eval =
      "eval " + std::string(AIMC_SOURCE_DIR) + "/models/mlp-fmnist.onnx --dataset fashion-mnist ";
  for (const char* flag : {"--limit", "--batch"}) {
    const test::CliRun run = run_aimc(eval + flag + " 0");
    EXPECT_EQ(run.exit_code, 2) << flag;
    EXPECT_NE(run.err.find(std::string(flag) + ": Value 0 not in range 1 to "), std::string::npos)
        << run.err;
    EXPECT_EQ(run.err.find("0.000000"), std::string::npos) << run.err;  // not a float range
  }
}

TEST(Flags, SeedsOutsideZeroToTwoToTheSixtyFourAreExitTwo) {
  const std::string eval = "eval " + std::string(AIMC_SOURCE_DIR) +
                           "/models/mlp-fmnist.onnx --dataset fashion-mnist --limit 2 --arch " +
                           std::string(AIMC_SOURCE_DIR) + "/presets/ideal.yaml --seed ";
  for (const char* bad : {"-1", "18446744073709551616", "1e3"}) {
    const test::CliRun run = run_aimc(eval + bad);
    EXPECT_EQ(run.exit_code, 2) << bad;
    EXPECT_NE(run.err.find("--seed"), std::string::npos) << run.err;
  }
  EXPECT_EQ(run_aimc(eval + "18446744073709551615").exit_code, 0);
}

}  // namespace
}  // namespace aimc
