// docs/plan-format.md's opcode table is generated from the op table (ops.def): this test
// builds the table from ops.def and fails, printing the table to paste, when the doc's
// differs. An op row added without its doc row fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tinyforge/ops.h"

namespace tinyforge {
namespace {

const char* params_struct(OpCode op) {
  switch (op) {
#define OP(name, params, min_in, max_in, n_out) \
  case OpCode::name:                            \
    return #params;
#include "tinyforge/ops.def"
#undef OP
    case OpCode::count_:
      break;
  }
  return "";
}

std::string generated_table() {
  std::string t =
      "| opcode | op | params struct (`params.h`) | params bytes | inputs | outputs |\n"
      "|---|---|---|---|---|---|\n";
  for (uint16_t i = 0; i < kNumOps; ++i) {
    const auto op = static_cast<OpCode>(i);
    const OpInfo& info = op_info(op);
    const std::string inputs =
        info.min_inputs == info.max_inputs
            ? std::to_string(info.min_inputs)
            : std::to_string(info.min_inputs) + ".." + std::to_string(info.max_inputs);
    t += "| " + std::to_string(i) + " | " + info.name + " | `" + params_struct(op) + "` | " +
         std::to_string(info.params_size) + " | " + inputs + " | " + std::to_string(info.outputs) +
         " |\n";
  }
  return t;
}

TEST(PlanFormatDoc, OpcodeTableMatchesTheOpTable) {
  std::ifstream in(std::string(TINYFORGE_SOURCE_DIR) + "/docs/plan-format.md");
  ASSERT_TRUE(in) << "docs/plan-format.md not found";
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const std::string begin = "<!-- opcode table: generated from ops.def -->\n";
  const std::string end = "<!-- end of opcode table -->";
  const size_t a = text.find(begin), b = text.find(end);
  ASSERT_NE(a, std::string::npos) << "marker missing: " << begin;
  ASSERT_NE(b, std::string::npos) << "marker missing: " << end;
  EXPECT_EQ(text.substr(a + begin.size(), b - a - begin.size()), generated_table())
      << "docs/plan-format.md's opcode table differs from ops.def; the table is:\n"
      << generated_table();
}

}  // namespace
}  // namespace tinyforge
