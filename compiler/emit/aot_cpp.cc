#include "emit/aot_cpp.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "emit/validated_plan.h"
#include "ir/graph.h"
#include "tinyforge/ops.h"
#include "tinyforge/plan_format.h"
#include "tinyforge/runtime.h"

namespace tinyforge::emit {
namespace {

// The params struct type name of an op (the X-macro's second column).
const char* params_type(OpCode op) {
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

// An exact C++17 literal (hexadecimal float) for a tensor's scale.
std::string float_literal(float f) {
  if (std::isnan(f)) return "std::numeric_limits<float>::quiet_NaN()";
  if (std::isinf(f))
    return f > 0 ? "std::numeric_limits<float>::infinity()"
                 : "-std::numeric_limits<float>::infinity()";
  return fmt::format("{:a}f", f);
}

// Constants and params: the blob's data section, offsets relative to its start; the arena.
std::string data_section(const ValidatedPlan& plan) {
  const PlanHeader& h = plan.header();
  std::string o =
      fmt::format("alignas(16) TINYFORGE_MODEL const uint8_t kData[{}] = {{", h.data_size);
  for (uint32_t i = 0; i < h.data_size; ++i) {
    if (i % 24 == 0) o += "\n";
    o += fmt::format("0x{:02x},", plan.data()[h.data_offset + i]);
  }
  o += "\n};\n";
  o += fmt::format("alignas(16) uint8_t g_arena[{}];\n\n", (h.arena_size + 15) / 16 * 16);
  return o;
}

// One view per tensor an op uses, its data pointer resolved at compile time.
std::string tensor_view(const PlanReader& reader, uint16_t t) {
  if (t == kNoTensor) return "TensorView{}";
  const TensorRecord r = reader.tensor(t);
  const std::string data =
      static_cast<Storage>(r.storage) == Storage::constant
          ? fmt::format("const_cast<uint8_t*>(kData + {})", reader.data_relative(r.offset))
          : fmt::format("g_arena + {}", r.offset);
  return fmt::format(
      "TensorView{{static_cast<DType>({}), {}, {{{}, {}, {}, {}}}, {}, {}u, {}, {}}}", r.dtype,
      r.rank, r.dims[0], r.dims[1], r.dims[2], r.dims[3], data, r.size_bytes,
      float_literal(r.scale), r.zero_point);
}

// Each op's views and KernelIO as constants (addresses are link-time constants) in the
// model's section: they are the model's tensor records, as the plan blob's are; `calls`
// gets invoke()'s body, one call per op.
std::string op_tables(const PlanReader& reader, std::string& calls) {
  std::string o;
  for (uint32_t i = 0; i < reader.header().num_ops; ++i) {
    const OpRecord op = reader.op(i);
    const OpCode code = static_cast<OpCode>(op.opcode);
    o += fmt::format("// op {}: {}\nTINYFORGE_MODEL const TensorView kIn{}[] = {{", i,
                     op_info(code).name, i);
    for (uint8_t k = 0; k < op.num_inputs; ++k)
      o += "\n    " + tensor_view(reader, reader.op_input(op, k)) + ",";
    o += fmt::format("}};\nTINYFORGE_MODEL const TensorView kOut{}[] = {{", i);
    for (uint8_t k = 0; k < op.num_outputs; ++k)
      o += "\n    " + tensor_view(reader, reader.op_output(op, k)) + ",";
    o += "};\n";
    o += fmt::format(
        "TINYFORGE_MODEL const KernelIO kIo{}{{kIn{}, {}, kOut{}, {}, {}, {}u}};\n\n", i, i,
        op.num_inputs, i, op.num_outputs,
        op.scratch_size ? fmt::format("g_arena + {}", op.scratch_offset) : std::string("nullptr"),
        op.scratch_size);
    calls += fmt::format("  eval_{}(*reinterpret_cast<const {}*>(kData + {}), kIo{});\n",
                         op_info(code).name, params_type(code),
                         reader.data_relative(op.params_offset), i);
  }
  return o;
}

// The value a state tensor restarts from: its zero point when int8 or int16, else 0.
int32_t state_fill(const TensorRecord& r) {
  const auto type = static_cast<DType>(r.dtype);
  return type == DType::i8 || type == DType::i16 ? r.zero_point : 0;
}

bool needs_first_fill(const PlanReader& reader) {
  for (uint32_t t = 0; t < reader.header().num_tensors; ++t) {
    const TensorRecord r = reader.tensor(t);
    if (static_cast<Storage>(r.storage) == Storage::state && state_fill(r) != 0) return true;
  }
  return false;
}

// Sizes and the model's input/output buffers: kArenaBytes, input(i), input_bytes(i), ...
std::string io_api(const PlanReader& reader) {
  const PlanHeader& h = reader.header();
  std::string api;
  api += fmt::format(
      "constexpr uint32_t kArenaBytes = {};\nconstexpr uint32_t kNumInputs = {};\n"
      "constexpr uint32_t kNumOutputs = {};\n\n",
      h.arena_size, h.num_inputs, h.num_outputs);
  auto io_table = [&](const char* name, bool inputs, uint32_t n, bool writable) {
    auto tensor = [&](uint32_t i) {
      return reader.tensor(inputs ? reader.model_input(i) : reader.model_output(i));
    };
    api += fmt::format("{}uint8_t* {}(uint32_t i) {{\n  static {}uint8_t* const k[] = {{",
                       writable ? "" : "const ", name, writable ? "" : "const ");
    for (uint32_t i = 0; i < n; ++i) api += fmt::format("g_arena + {}, ", tensor(i).offset);
    api += "};\n  return k[i];\n}\n";
    api += fmt::format("uint32_t {}_bytes(uint32_t i) {{\n  static const uint32_t k[] = {{", name);
    for (uint32_t i = 0; i < n; ++i) api += fmt::format("{}u, ", tensor(i).size_bytes);
    api += "};\n  return k[i];\n}\n\n";
  };
  io_table("input", true, h.num_inputs, true);
  io_table("output", false, h.num_outputs, false);
  // Stateful ops' memory starts zero with the arena (static storage); reset_state() sets it
  // to its zero point again (Runtime::reset_state). Only a model with state has it.
  std::string fill;
  for (uint32_t t = 0; t < h.num_tensors; ++t) {
    const TensorRecord r = reader.tensor(t);
    if (static_cast<Storage>(r.storage) != Storage::state) continue;
    if (state_fill(r) == 0) {
      fill += fmt::format("  std::memset(g_arena + {}, 0, {});\n", r.offset, r.size_bytes);
    } else if (static_cast<DType>(r.dtype) == DType::i8) {
      fill += fmt::format("  std::memset(g_arena + {}, {}, {});\n", r.offset,
                          static_cast<uint8_t>(r.zero_point), r.size_bytes);
    } else {
      fill += fmt::format(
          "  for (uint32_t k = 0; k < {}; k += 2) {{\n    const int16_t v = {};\n"
          "    std::memcpy(g_arena + {} + k, &v, 2);\n  }}\n",
          r.size_bytes, r.zero_point, r.offset);
    }
  }
  if (fill.empty()) return api;
  // A state that does not start at zero is filled before the first invoke().
  if (needs_first_fill(reader)) {
    api += "bool g_state_filled = false;\n\n";
    fill += "  g_state_filled = true;\n";
  }
  api += "void reset_state() {\n" + fill + "}\n\n";
  return api;
}

// main() for the emulator bench: the measurement protocol of ../shared/tools/m4sim.
std::string bench_main(const ValidatedPlan& plan) {
  const uint32_t in_total = plan.input_bytes(), out_total = plan.output_bytes();
  return fmt::format(
      "\n// The measurement protocol of ../shared/tools/m4sim/README.md.\n"
      "#define TINYFORGE_NOINIT __attribute__((section(\".noinit\"), used))\n"
      "extern \"C\" {{\n"
      "alignas(8) TINYFORGE_NOINIT uint8_t tinyforge_input[{}];\n"
      "alignas(8) TINYFORGE_NOINIT uint8_t tinyforge_output[{}];\n"
      "__attribute__((used)) volatile uint32_t tinyforge_arena_used;\n"
      "__attribute__((noinline, noipa, used)) void tinyforge_bench_begin() {{ asm volatile(\"\" "
      "::: \"memory\"); }}\n"
      "__attribute__((noinline, noipa, used)) void tinyforge_bench_end() {{ asm volatile(\"\" ::: "
      "\"memory\"); }}\n"
      "__attribute__((noinline, noipa, used)) void tinyforge_done() {{ asm volatile(\"\" ::: "
      "\"memory\"); }}\n"
      "}}\n\n"
      "int main() {{\n"
      "  uint32_t at = 0;\n"
      "  for (uint32_t i = 0; i < tinyforge_aot::kNumInputs; ++i) {{\n"
      "    std::memcpy(tinyforge_aot::input(i), tinyforge_input + at, "
      "tinyforge_aot::input_bytes(i));\n"
      "    at += tinyforge_aot::input_bytes(i);\n"
      "  }}\n"
      "  tinyforge_arena_used = tinyforge_aot::kArenaBytes;\n"
      "  tinyforge_bench_begin();\n"
      "  tinyforge_aot::invoke();\n"
      "  tinyforge_bench_end();\n"
      "  at = 0;\n"
      "  for (uint32_t i = 0; i < tinyforge_aot::kNumOutputs; ++i) {{\n"
      "    std::memcpy(tinyforge_output + at, tinyforge_aot::output(i), "
      "tinyforge_aot::output_bytes(i));\n"
      "    at += tinyforge_aot::output_bytes(i);\n"
      "  }}\n"
      "  tinyforge_done();\n"
      "  return 0;\n"
      "}}\n",
      in_total, out_total);
}

}  // namespace

std::string emit_aot_cpp(const std::vector<uint8_t>& blob, const AotOptions& options) {
  // The emitted code trusts what the runtime's validator accepted here.
  const ValidatedPlan plan(blob, "emit cpp");
  if (uses_memory_regions(plan.data(), plan.header()))
    throw tinyforge::Error(
        "emit cpp: the plan uses memory regions (--memory), which the ahead-of-time C++ does "
        "not support yet (use the plan blob)");
  std::string o;
  o += "// Generated by tinyforge (compiler/emit/aot_cpp.h): the plan's ops as direct kernel "
       "calls.\n"
       "// Do not edit.\n"
       "#include <cstdint>\n#include <cstring>\n#include <limits>\n\n#include \"tinyforge/aot.h\"\n"
       "#include \"tinyforge/kernel.h\"\n\n";
  o += options.model_section
           ? "#define TINYFORGE_MODEL __attribute__((section(\".tinyforge.model\"), used))\n\n"
           : "#define TINYFORGE_MODEL\n\n";
  o += "namespace tinyforge_aot {\nnamespace {\n\nusing namespace tinyforge;\n\n";
  o += data_section(plan);
  std::string calls;
  o += op_tables(plan.reader(), calls);
  o += "}  // namespace\n\n" + io_api(plan.reader()) + "void invoke() {\n";
  if (needs_first_fill(plan.reader())) o += "  if (!g_state_filled) reset_state();\n";
  o += calls;
  o += "}\n\n}  // namespace tinyforge_aot\n";
  if (options.with_main) o += bench_main(plan);
  return o;
}

}  // namespace tinyforge::emit
