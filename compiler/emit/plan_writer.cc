#include "emit/plan_writer.h"

#include <cstring>
#include <map>

#include "tinyforge/plan_reader.h"

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
  // Single-arena plans without a front-end stay version 2.1, byte for byte as before
  // regions existed; regions alone make 2.2; a front-end makes 2.3, which always carries
  // PlanRegions (one unnamed region without --memory) so that 2.2 readers run the model.
  const bool with_frontend = !plan.frontend.empty();
  std::vector<plan::Plan::Region> region_table = plan.regions;
  if (with_frontend && region_table.empty()) region_table.push_back({"", plan.arena_size});
  const bool with_regions = !region_table.empty();
  h.version_minor = with_frontend  ? kPlanVersionMinor
                    : with_regions ? kPlanMinorWithRegions
                                   : kPlanMinorWithoutRegions;
  h.header_size = static_cast<uint32_t>(sizeof(PlanHeader) + sizeof(PlanTarget) +
                                        (with_regions ? sizeof(PlanRegions) : 0) +
                                        (with_frontend ? sizeof(PlanFrontend) : 0));
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
  const uint32_t indices_end = align4(h.indices_offset + h.num_indices * sizeof(uint16_t));
  std::vector<uint16_t> copied;
  for (size_t t = 0; t < plan.tensors.size(); ++t)
    if (plan.tensors[t].storage == Storage::copied) copied.push_back(static_cast<uint16_t>(t));
  PlanRegions regions{};
  if (with_regions) {
    regions.num_regions = static_cast<uint32_t>(region_table.size());
    regions.regions_offset = indices_end;
    regions.num_copies = static_cast<uint32_t>(copied.size());
    regions.copies_offset = regions.regions_offset + regions.num_regions * sizeof(RegionRecord);
    h.data_offset = regions.copies_offset + regions.num_copies * sizeof(CopyRecord);
  } else {
    h.data_offset = indices_end;
  }

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
    if (!plan::in_arena(plan.tensors[t].storage)) const_at[t] = store(plan.tensors[t].data);
  h.data_size = static_cast<uint32_t>(data.size());
  h.total_size = h.data_offset + h.data_size;
  PlanFrontend frontend{0, 0};
  if (with_frontend) {
    frontend = {h.total_size, static_cast<uint32_t>(plan.frontend.size())};
    h.total_size += align4(plan.frontend.size());
  }

  std::vector<uint8_t> blob(h.total_size, 0);
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    const plan::PlanTensor& pt = plan.tensors[t];
    TensorRecord r{};
    r.dtype = static_cast<uint8_t>(pt.type);
    r.rank = static_cast<uint8_t>(pt.shape.size());
    for (uint8_t d = 0; d < kMaxRank; ++d) r.dims[d] = d < r.rank ? pt.shape[d] : 1;
    r.storage = static_cast<uint8_t>(pt.storage);
    r.region = pt.region;
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
  if (with_regions) {
    for (size_t i = 0; i < region_table.size(); ++i) {
      RegionRecord r{};
      std::strncpy(r.name, region_table[i].name.c_str(), sizeof r.name - 1);
      r.size = region_table[i].size;
      put(blob, regions.regions_offset + i * sizeof(RegionRecord), r);
    }
    for (size_t i = 0; i < copied.size(); ++i)
      put(blob, regions.copies_offset + i * sizeof(CopyRecord),
          CopyRecord{copied[i], 0, const_at[copied[i]]});
    put(blob, sizeof(PlanHeader) + sizeof(PlanTarget), regions);
  }
  if (with_frontend) {
    std::memcpy(blob.data() + frontend.offset, plan.frontend.data(), plan.frontend.size());
    put(blob, kFrontendAt, frontend);
  }
  put(blob, 0, h);
  put(blob, sizeof(PlanHeader), target);
  h.checksum = plan_checksum(blob.data(), h.total_size);
  put(blob, 0, h);
  return blob;
}

}  // namespace tinyforge::emit
