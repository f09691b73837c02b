#include "cli/profile.h"

#include <fmt/format.h>

#include <cstring>

#include "cli/contract.h"
#include "cli/temp_dir.h"
#include "emit/validated_plan.h"
#include "io/files.h"
#include "sim/error.h"
#include "tinyforge/runtime.h"

namespace tinyforge::cli {
namespace {

// The output tensor records of op `op`.
std::vector<TensorRecord> op_output_records(const PlanReader& reader, uint32_t op) {
  const OpRecord r = reader.op(op);
  std::vector<TensorRecord> out;
  for (uint32_t k = 0; k < r.num_outputs; ++k) out.push_back(reader.tensor(reader.op_output(r, k)));
  return out;
}

struct HostCapture {
  const PlanReader* reader;
  const uint8_t* arena;
  OpOutputs* outputs;
};

void host_hook(void* user, uint32_t op, OpCode) {
  auto& c = *static_cast<HostCapture*>(user);
  std::vector<std::vector<uint8_t>> outs;
  for (const TensorRecord& t : op_output_records(*c.reader, op)) {
    const uint8_t* p = c.arena + t.offset;
    outs.emplace_back(p, p + t.size_bytes);
  }
  if (c.outputs->size() <= op) c.outputs->resize(op + 1);
  (*c.outputs)[op] = std::move(outs);
}

}  // namespace

OpOutputs host_op_outputs(const std::vector<uint8_t>& blob, const std::string& source,
                          const std::vector<std::vector<uint8_t>>& inputs) {
  const emit::ValidatedPlan plan(blob, source);
  std::vector<uint32_t> arena(plan.header().arena_size / 4 + 1, 0);
  auto* arena_bytes = reinterpret_cast<uint8_t*>(arena.data());
  Runtime rt;
  const Status s = rt.init(plan.data(), plan.size(), arena_bytes, plan.header().arena_size);
  if (s != Status::ok)
    throw tinyforge::Error(fmt::format("{}: runtime init failed: {}", source, status_name(s)));
  if (inputs.size() != rt.num_inputs())
    throw tinyforge::Error(fmt::format("{}: the model has {} input(s), {} given", source,
                                       rt.num_inputs(), inputs.size()));
  for (uint32_t i = 0; i < rt.num_inputs(); ++i) {
    const TensorView v = rt.input(i);
    if (inputs[i].size() != v.bytes)
      throw tinyforge::Error(fmt::format("{}: input {} is {} bytes, the model takes {}", source, i,
                                         inputs[i].size(), v.bytes));
    std::memcpy(v.data, inputs[i].data(), v.bytes);
  }
  OpOutputs outputs(rt.num_ops());
  HostCapture capture{&plan.reader(), arena_bytes, &outputs};
  rt.set_op_hook(host_hook, &capture);
  const Status r = rt.invoke();
  if (r != Status::ok)
    throw tinyforge::Error(fmt::format("{}: invoke failed: {}", source, status_name(r)));
  return outputs;
}

DeviceRun device_run(const std::vector<uint8_t>& blob, const std::string& source,
                     const std::vector<uint8_t>& input, const DeviceOptions& options) {
  const emit::ValidatedPlan plan(blob, source);
  DeviceRun d;
  TempDir dir("tinyforge-profile", "");
  emit::FirmwareOptions fw;
  fw.target = options.target;
  fw.board = options.board;
  fw.op_markers = true;
  d.image = emit::build_firmware(blob, fw, dir.path(), note);
  d.elf = sim::read_elf(d.image.elf_path);
  const auto arena_symbol = d.elf.symbol("tinyforge_arena");
  if (!arena_symbol)
    throw tinyforge::Error(source + ": the firmware has no tinyforge_arena symbol");
  const uint32_t arena = arena_symbol->value;

  sim::RunOptions ro;
  ro.cpu = sim::cpu_from_name(d.image.target.emulator_cpu);
  ro.input = input;
  ro.max_instructions = options.max_instructions;
  const PlanReader& reader = plan.reader();
  if (options.capture || options.flip_op) {
    d.outputs.resize(plan.header().num_ops);
    ro.on_op = [&](uint32_t op, sim::Memory& memory) {
      if (op >= plan.header().num_ops)
        throw sim::Error("op marker with index " + std::to_string(op));
      const std::vector<TensorRecord> outs = op_output_records(reader, op);
      if (options.flip_op && *options.flip_op == op && !outs.empty()) {
        std::vector<uint8_t> b = memory.read(arena + outs[0].offset, 1);
        b[0] ^= 1;  // one LSB of an int8/uint8 element, or of a wider one's low byte
        memory.write(arena + outs[0].offset, b);
      }
      if (!options.capture) return;
      for (const TensorRecord& t : outs)
        d.outputs[op].push_back(memory.read(arena + t.offset, t.size_bytes));
    };
  }
  Progress progress("emulating on " + d.image.target.name + " (million instructions)");
  ro.progress = [&](uint64_t n) { progress.update(n / 1000000, 0); };
  try {
    d.run = sim::run_firmware(d.elf, ro);
  } catch (const sim::Error& e) {
    throw tinyforge::Error(source + ": the firmware on the emulator: " + e.what());
  }
  progress.finish();
  const sim::PowerModel power{d.image.board.clock_mhz, d.image.board.active_ua_per_mhz,
                              d.image.board.voltage};
  d.figures = sim::compute_figures(d.run, power, arena_symbol->size);
  return d;
}

std::vector<std::vector<uint8_t>> model_inputs_from(const std::vector<uint8_t>& blob,
                                                    const std::string& source,
                                                    const std::vector<std::string>& files,
                                                    uint32_t case_index) {
  const emit::ValidatedPlan plan(blob, source);
  const PlanReader& reader = plan.reader();
  const uint32_t n = plan.header().num_inputs;
  if (!files.empty() && files.size() != n)
    throw UsageError(
        fmt::format("{}: the model has {} input(s), {} --input given", source, n, files.size()));
  std::vector<std::vector<uint8_t>> inputs;
  for (uint32_t i = 0; i < n; ++i) {
    const TensorRecord t = reader.tensor(reader.model_input(i));
    const DType type = static_cast<DType>(t.dtype);
    if (!files.empty()) {
      const std::vector<uint8_t> file = io::read_file(files[i]);
      check_tensor_file(files[i], file, type, t.size_bytes);
      const uint64_t begin = uint64_t{case_index} * t.size_bytes;
      if (begin + t.size_bytes > file.size())
        throw UsageError(fmt::format("{}: holds {} case(s), --case {} asked (cases count from 0)",
                                     files[i], file.size() / t.size_bytes, case_index));
      inputs.emplace_back(file.begin() + begin, file.begin() + begin + t.size_bytes);
      continue;
    }
    const uint32_t size = dtype_size(type);
    std::vector<uint8_t> v(t.size_bytes, 0);
    if (type != DType::f32 && size > 0)
      for (uint32_t at = 0; at + size <= t.size_bytes; at += size)
        for (uint32_t b = 0; b < size; ++b)
          v[at + b] = static_cast<uint8_t>(static_cast<uint32_t>(t.zero_point) >> (8 * b));
    inputs.push_back(std::move(v));
  }
  return inputs;
}

}  // namespace tinyforge::cli
