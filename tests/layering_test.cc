// Layers point one way: import -> ir -> passes -> plan -> emit -> (host run | firmware), the
// device runtime below all of them and the CLI above; an op's host file (compiler/ops/)
// spans import, export and plan, and its interface header sits with the IR. This test reads
// every production source (tests and test-only helpers excluded), resolves each quoted
// #include to the file it names, and fails on an include that points the wrong way.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kRoot = TINYFORGE_SOURCE_DIR;

// The layer a source file belongs to: "runtime", "cli", "sim", "fleet" or
// "compiler/<folder>".
std::string layer_of(const fs::path& file) {
  const std::string rel = fs::relative(file, kRoot).generic_string();
  for (const char* top : {"runtime/", "cli/", "sim/", "fleet/"})
    if (rel.rfind(top, 0) == 0) return std::string(top).substr(0, std::string(top).size() - 1);
  // An op's host file reaches into import, export and plan; its interface header is
  // included from all of them.
  if (rel.rfind("compiler/ops/", 0) == 0)
    return file.extension() == ".h" ? "compiler/ops (interface)" : "compiler/ops";
  if (rel.rfind("compiler/", 0) == 0) {
    const size_t slash = rel.find('/', 9);
    return slash == std::string::npos ? "compiler" : rel.substr(0, slash);
  }
  return "other";
}

// Where a quoted include resolves: beside the file first, then the include roots.
fs::path resolve(const fs::path& from, const std::string& name) {
  for (const fs::path& dir : {from.parent_path(), kRoot / "runtime/include", kRoot / "runtime",
                              kRoot / "compiler", kRoot / "cli", kRoot / "sim", kRoot}) {
    const fs::path p = dir / name;
    if (fs::exists(p)) return fs::canonical(p);
  }
  return {};
}

// Rank of each compiler folder along the one direction; a folder may include its own rank
// or lower. Passes (graph passes, quantization, pruning) are one rank.
const std::map<std::string, int> kCompilerRank = {
    {"compiler/io", 0},       {"compiler/ir", 0},    {"compiler/import", 1},
    {"compiler/export", 1},   {"compiler/ota", 1},   {"compiler/passes", 2},
    {"compiler/quantize", 2}, {"compiler/prune", 2}, {"compiler/plan", 3},
    {"compiler/emit", 4},     {"compiler/host", 5},  {"compiler/ops (interface)", 0},
    {"compiler/ops", 3},      {"compiler/audio", 1},
};

// Known edges against the ranks, each with its reason. The quantizer asks the planner
// whether a node lowers (plan::lower_node) to keep the nodes it cannot run in float.
bool allowed_exception(const std::string& from, const std::string& to) {
  return from == "compiler/quantize" && to == "compiler/plan";
}

// Empty when `from` may include `to`, else why not.
std::string violation(const std::string& from, const std::string& to) {
  if (allowed_exception(from, to)) return {};
  if (from == "runtime" && to != "runtime" && to != "other")
    return "the device runtime includes only its own headers";
  if (from.rfind("compiler", 0) == 0 && to == "cli") return "the compiler never includes the CLI";
  if (from.rfind("compiler", 0) == 0 && to == "sim") return "the compiler never includes sim";
  if (from.rfind("compiler", 0) == 0 && to == "fleet")
    return "the compiler never includes the fleet service";
  if (from == "fleet" && to == "cli") return "the fleet service never includes the CLI";
  const auto f = kCompilerRank.find(from), t = kCompilerRank.find(to);
  if (f != kCompilerRank.end() && t != kCompilerRank.end() && t->second > f->second)
    return "a lower layer includes a higher one";
  return {};
}

bool is_test_only(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.find("_test") != std::string::npos || name.find("test_") == 0;
}

TEST(Layering, NoIncludePointsTheWrongWay) {
  static const std::regex include_re(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> problems;
  int files = 0;
  for (const char* top : {"runtime", "compiler", "cli", "sim", "fleet"}) {
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / top)) {
      const fs::path& p = entry.path();
      const std::string ext = p.extension().string();
      if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h" && ext != ".def")) continue;
      if (is_test_only(p)) continue;
      ++files;
      const std::string from = layer_of(p);
      std::ifstream in(p);
      std::string line;
      int number = 0;
      while (std::getline(in, line)) {
        ++number;
        std::smatch m;
        if (!std::regex_search(line, m, include_re)) continue;
        const fs::path target = resolve(p, m[1].str());
        if (target.empty() || is_test_only(target)) continue;  // generated or test headers
        const std::string why = violation(from, layer_of(target));
        if (!why.empty())
          problems.push_back(fs::relative(p, kRoot).generic_string() + ":" +
                             std::to_string(number) + ": includes \"" + m[1].str() + "\" (" +
                             layer_of(target) + "): " + why);
      }
    }
  }
  EXPECT_GT(files, 100) << "expected to scan the whole tree under " << kRoot;
  for (const std::string& p : problems) ADD_FAILURE() << p;
}

TEST(Layering, TheRulesCatchWhatTheyForbid) {
  EXPECT_FALSE(violation("runtime", "compiler/plan").empty());
  EXPECT_FALSE(violation("runtime", "sim").empty());
  EXPECT_FALSE(violation("compiler/emit", "cli").empty());
  EXPECT_FALSE(violation("compiler/passes", "compiler/emit").empty());
  EXPECT_FALSE(violation("compiler/quantize", "compiler/host").empty());
  EXPECT_FALSE(violation("compiler/emit", "compiler/host").empty());
  EXPECT_TRUE(violation("compiler/host", "compiler/emit").empty());
  EXPECT_TRUE(violation("compiler/plan", "compiler/ir").empty());
  EXPECT_TRUE(violation("cli", "compiler/host").empty());
  EXPECT_TRUE(violation("compiler/import", "compiler/ops (interface)").empty());
  EXPECT_TRUE(violation("compiler/ops", "compiler/plan").empty());
  EXPECT_FALSE(violation("compiler/ops", "compiler/emit").empty());
  EXPECT_FALSE(violation("runtime", "fleet").empty());
  EXPECT_FALSE(violation("compiler/host", "fleet").empty());
  EXPECT_FALSE(violation("fleet", "cli").empty());
  EXPECT_TRUE(violation("fleet", "compiler/host").empty());
  EXPECT_TRUE(violation("cli", "fleet").empty());
}

}  // namespace
