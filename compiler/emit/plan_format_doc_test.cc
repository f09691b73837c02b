// docs/plan-format.md's opcode table and params layouts are generated from the op table
// (ops.def) and params.h: this test builds both and fails when the doc differs, printing the
// fresh text; `TINYFORGE_UPDATE_DOCS=1` makes it rewrite the doc instead. An op row or a
// params field added without its doc fails here.
//
// The layouts are read from params.h's text (fixed-width scalar fields and arrays, laid out
// with natural alignment, as the header promises) and each struct's computed size is checked
// against the compiler's sizeof, so a field the reader got wrong cannot go unnoticed.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "generated_doc.h"
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
         std::to_string(info.params_size) + " | " + inputs + " | " +
         (info.outputs == 1 ? "1" : "1.." + std::to_string(info.outputs)) + " |\n";
  }
  return t;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Field {
  std::string name, type, note;
  uint32_t offset = 0, count = 1;  // count > 1: an array
};
struct Layout {
  std::string comment;  // the comment block above the struct: inputs and arithmetic
  std::vector<Field> fields;
  uint32_t size = 0;
};

// Every struct in params.h, laid out; `error` names what the reader could not understand.
std::map<std::string, Layout> read_layouts(const std::string& header, std::string& error) {
  static const std::map<std::string, uint32_t> kSizes = {
      {"int8_t", 1},  {"uint8_t", 1},  {"int16_t", 2}, {"uint16_t", 2},
      {"int32_t", 4}, {"uint32_t", 4}, {"float", 4}};
  std::map<std::string, Layout> out;
  std::istringstream in(header);
  std::string line, comment, current;
  uint32_t align = 1;
  const std::regex open(R"(^struct (\w+) \{$)");
  const std::regex decl(R"(^\s+(\w+)\s+([^;]+);\s*(?://\s*(.*))?$)");
  const std::regex declarator(R"(^\s*(\w+)(?:\[(\d+)\])?\s*$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (current.empty()) {
      if (line.rfind("//", 0) == 0) {
        comment += (comment.empty() ? "" : " ") + line.substr(line.size() > 2 ? 3 : 2);
      } else if (std::regex_match(line, m, open)) {
        current = m[1];
        out[current].comment = comment;
        align = 1;
      } else {
        comment.clear();
      }
      continue;
    }
    Layout& l = out[current];
    if (line == "};") {
      l.size = (l.size + align - 1) / align * align;
      current.clear();
      comment.clear();
      continue;
    }
    const bool known = std::regex_match(line, m, decl);
    // A field that is a params struct laid out above: its fields, named `field.inner`.
    const auto nested = known ? out.find(m[1]) : out.end();
    if (known && nested != out.end() && nested->first != current) {
      uint32_t inner_align = 1;
      for (const Field& f : nested->second.fields)
        inner_align = std::max(inner_align, kSizes.count(f.type) ? kSizes.at(f.type) : 4u);
      align = std::max(align, inner_align);
      std::stringstream names(m[2].str());
      std::string one;
      while (std::getline(names, one, ',')) {
        const std::string name = one.substr(one.find_first_not_of(' '));
        const uint32_t base = (l.size + inner_align - 1) / inner_align * inner_align;
        for (Field f : nested->second.fields) {
          f.name = name + "." + f.name;
          f.offset += base;
          l.fields.push_back(f);
        }
        l.size = base + nested->second.size;
      }
      continue;
    }
    if (!known || !kSizes.count(m[1])) {
      error += current + ": cannot lay out `" + line + "`\n";
      continue;
    }
    const std::string type = m[1], note = m[3];
    const uint32_t size = kSizes.at(type);
    align = std::max(align, size);
    std::stringstream names(m[2].str());
    std::string one;
    while (std::getline(names, one, ',')) {
      std::smatch d;
      if (!std::regex_match(one, d, declarator)) {
        error += current + ": cannot lay out `" + one + "`\n";
        continue;
      }
      Field f{d[1], type, note};
      f.count = d[2].matched ? static_cast<uint32_t>(std::stoul(d[2])) : 1;
      f.offset = (l.size + size - 1) / size * size;
      l.size = f.offset + size * f.count;
      l.fields.push_back(f);
    }
  }
  return out;
}

// One section per params struct of the op table, in opcode order.
std::string generated_layouts(std::string& error) {
  const auto layouts = read_layouts(
      read_text(std::string(TINYFORGE_SOURCE_DIR) + "/runtime/include/tinyforge/params.h"), error);
  std::map<std::string, std::vector<std::string>> users;
  std::vector<std::string> order;
  for (uint16_t i = 0; i < kNumOps; ++i) {
    const std::string name = params_struct(static_cast<OpCode>(i));
    if (users[name].empty()) order.push_back(name);
    users[name].push_back(op_info(static_cast<OpCode>(i)).name);
    const auto it = layouts.find(name);
    if (it == layouts.end())
      error += name + ": not found in params.h\n";
    else if (it->second.size != op_info(static_cast<OpCode>(i)).params_size)
      error += name + ": read as " + std::to_string(it->second.size) + " bytes, sizeof is " +
               std::to_string(op_info(static_cast<OpCode>(i)).params_size) + "\n";
  }
  std::string t;
  for (const std::string& name : order) {
    const auto it = layouts.find(name);
    if (it == layouts.end()) continue;
    const Layout& l = it->second;
    std::string ops;
    for (const std::string& op : users[name]) ops += (ops.empty() ? "" : ", ") + op;
    t += "### `" + name + "` (" + std::to_string(l.size) + " bytes; " + ops + ")\n\n";
    if (!l.comment.empty()) t += l.comment + "\n\n";
    t += "| offset | field | type | note |\n|---|---|---|---|\n";
    for (const Field& f : l.fields)
      t += "| " + std::to_string(f.offset) + " | `" + f.name + "` | " + f.type +
           (f.count > 1 ? "[" + std::to_string(f.count) + "]" : "") + " | " + f.note + " |\n";
    t += "\n";
  }
  return t;
}

void check_section(const std::string& begin, const std::string& end, const std::string& fresh) {
  testing::expect_generated_section("docs/plan-format.md", begin, end, fresh);
}

TEST(PlanFormatDoc, OpcodeTableMatchesTheOpTable) {
  check_section("<!-- opcode table: generated from ops.def -->\n", "<!-- end of opcode table -->",
                generated_table());
}

TEST(PlanFormatDoc, ParamsLayoutsMatchParamsHeader) {
  std::string error;
  const std::string layouts = generated_layouts(error);
  EXPECT_EQ(error, "") << "params.h could not be laid out";
  check_section("<!-- params layouts: generated from params.h -->\n",
                "<!-- end of params layouts -->", layouts);
}

}  // namespace
}  // namespace tinyforge
