#include "emit/plan_writer.h"

#include <cstring>
#include <map>

namespace tinyforge::emit {
namespace {

uint32_t align4(size_t v) { return static_cast<uint32_t>((v + 3) & ~size_t{3}); }

template <typename T>
void put(std::vector<uint8_t>& out, size_t at, const T& value) {
  std::memcpy(out.data() + at, &value, sizeof(T));
}

}  // namespace

std::vector<uint8_t> write_plan_blob(const plan::Plan& plan, const plan::PlanOptions& options) {
  PlanHeader h{};
  h.magic = kPlanMagic;
  h.version_major = kPlanVersionMajor;
  h.version_minor = kPlanVersionMinor;
  h.header_size = sizeof(PlanHeader) + sizeof(PlanTarget);
  PlanTarget target{};
  std::strncpy(target.target, options.target.c_str(), sizeof target.target - 1);
  target.kernels =
      static_cast<uint32_t>(options.kernels == plan::KernelSet::armv7em ? KernelVariant::armv7em
                                                                        : KernelVariant::reference);
  h.arena_size = plan.arena_size;

  std::vector<uint16_t> indices(plan.inputs);
  h.inputs_at = 0;
  h.num_inputs = static_cast<uint32_t>(plan.inputs.size());
  h.outputs_at = static_cast<uint32_t>(indices.size());
  h.num_outputs = static_cast<uint32_t>(plan.outputs.size());
  indices.insert(indices.end(), plan.outputs.begin(), plan.outputs.end());
  std::vector<uint32_t> op_io_at;
  for (const plan::PlanOp& op : plan.ops) {
    op_io_at.push_back(static_cast<uint32_t>(indices.size()));
    indices.insert(indices.end(), op.inputs.begin(), op.inputs.end());
    indices.insert(indices.end(), op.outputs.begin(), op.outputs.end());
  }

  h.num_tensors = static_cast<uint32_t>(plan.tensors.size());
  h.tensors_offset = h.header_size;
  h.num_ops = static_cast<uint32_t>(plan.ops.size());
  h.ops_offset = h.tensors_offset + h.num_tensors * sizeof(TensorRecord);
  h.num_indices = static_cast<uint32_t>(indices.size());
  h.indices_offset = h.ops_offset + h.num_ops * sizeof(OpRecord);
  h.data_offset = align4(h.indices_offset + h.num_indices * sizeof(uint16_t));

  // Data section: op params, then constants; each entry 4-byte aligned, duplicates shared.
  std::vector<uint8_t> data;
  std::map<std::vector<uint8_t>, uint32_t> stored;
  auto store = [&](const std::vector<uint8_t>& bytes) -> uint32_t {
    auto it = stored.find(bytes);
    if (it != stored.end()) return it->second;
    const uint32_t at = h.data_offset + static_cast<uint32_t>(data.size());
    data.insert(data.end(), bytes.begin(), bytes.end());
    data.resize(align4(data.size()), 0);
    stored.emplace(bytes, at);
    return at;
  };
  std::vector<uint32_t> params_at, const_at(plan.tensors.size(), 0);
  for (const plan::PlanOp& op : plan.ops) params_at.push_back(store(op.params));
  for (size_t t = 0; t < plan.tensors.size(); ++t)
    if (plan.tensors[t].storage == Storage::constant) const_at[t] = store(plan.tensors[t].data);
  h.data_size = static_cast<uint32_t>(data.size());
  h.total_size = h.data_offset + h.data_size;

  std::vector<uint8_t> blob(h.total_size, 0);
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    const plan::PlanTensor& pt = plan.tensors[t];
    TensorRecord r{};
    r.dtype = static_cast<uint8_t>(pt.type);
    r.rank = static_cast<uint8_t>(pt.shape.size());
    for (uint8_t d = 0; d < kMaxRank; ++d) r.dims[d] = d < r.rank ? pt.shape[d] : 1;
    r.storage = static_cast<uint8_t>(pt.storage);
    r.offset = pt.storage == Storage::constant ? const_at[t] : pt.arena_offset;
    r.size_bytes = pt.bytes();
    r.scale = pt.scale;
    r.zero_point = pt.zero_point;
    put(blob, h.tensors_offset + t * sizeof(TensorRecord), r);
  }
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const plan::PlanOp& op = plan.ops[i];
    OpRecord r{};
    r.opcode = static_cast<uint16_t>(op.op);
    r.num_inputs = static_cast<uint8_t>(op.inputs.size());
    r.num_outputs = static_cast<uint8_t>(op.outputs.size());
    r.io_at = op_io_at[i];
    r.params_offset = params_at[i];
    r.params_size = static_cast<uint32_t>(op.params.size());
    r.scratch_offset = op.scratch_offset;
    r.scratch_size = op.scratch_size;
    put(blob, h.ops_offset + i * sizeof(OpRecord), r);
  }
  std::memcpy(blob.data() + h.indices_offset, indices.data(), indices.size() * sizeof(uint16_t));
  if (!data.empty()) std::memcpy(blob.data() + h.data_offset, data.data(), data.size());
  put(blob, 0, h);
  put(blob, sizeof(PlanHeader), target);
  h.checksum = plan_checksum(blob.data(), h.total_size);
  put(blob, 0, h);
  return blob;
}

}  // namespace tinyforge::emit
