// Plan blob (.tfp) layout, version 2. Documented for users in docs/plan-format.md.
// All integers little-endian; every section and every record 4-byte aligned; every offset
// is relative to the start of the blob. The runtime reads the blob in place (from flash)
// after validate_plan() has checked every offset, size and enum in it.
#pragma once
#include <cstdint>

namespace tinyforge {

constexpr uint32_t kPlanMagic = 0x31504654;  // bytes "TFP1"
constexpr uint16_t kPlanVersionMajor = 2;    // incompatible changes
constexpr uint16_t kPlanVersionMinor = 3;    // compatible additions (1: PlanTarget, 2: regions,
                                             // 3: audio front-end section)
constexpr uint16_t kPlanMinorWithoutRegions = 1;  // what a plan without memory regions is
constexpr uint16_t kPlanMinorWithRegions = 2;     // with regions, without an audio front-end

enum class Storage : uint8_t {
  arena = 1,     // offset is into the caller's arena
  constant = 2,  // offset is into the blob (data section)
  copied = 3,    // a constant copied at init into its region (version 2.2): offset as arena,
                 // the bytes come from the data section (CopyRecord)
  state = 4,     // an arena tensor that keeps its bytes from one invoke() to the next (a
                 // stateful op's memory, e.g. SVDF's activation state): zero after init()
                 // and reset_state(); only stateful ops read or write it
};

struct PlanHeader {
  uint32_t magic;
  uint16_t version_major, version_minor;
  uint32_t header_size;                  // sizeof(PlanHeader) of the writer (>= ours)
  uint32_t total_size;                   // bytes of the whole blob
  uint32_t arena_size;                   // bytes of arena the plan needs (activations + scratch)
  uint32_t num_tensors, tensors_offset;  // TensorRecord[num_tensors]
  uint32_t num_ops, ops_offset;          // OpRecord[num_ops], in execution order
  uint32_t num_indices, indices_offset;  // uint16_t tensor indices used by ops and I/O
  uint32_t num_inputs, inputs_at;        // model inputs: indices[inputs_at .. +num_inputs)
  uint32_t num_outputs, outputs_at;      // model outputs: indices[outputs_at .. +num_outputs)
  uint32_t data_offset, data_size;       // constants and op params
  uint32_t checksum;                     // plan_checksum(): CRC-32 of the whole blob but this field
};

// What the plan was compiled for (version 2.1 on): right after PlanHeader, inside
// header_size. Informative for the host tools (bench, firmware, package compare it with
// their --target); the runtime only checks that it is well formed.
enum class KernelVariant : uint32_t {
  reference = 0,  // reference kernels only
  armv7em = 1,    // plus the Armv7E-M DSP twins
};

struct PlanTarget {
  char target[16];   // "host", "cortex-m4", ...: NUL-terminated, NUL-padded
  uint32_t kernels;  // KernelVariant
};

// Memory regions (version 2.2 on, only in blobs that use more than one arena or copy
// constants at init): right after PlanTarget, inside header_size. Without it a plan has one
// arena (region 0, arena_size bytes) and TensorRecord::region is not read.
constexpr uint32_t kMaxRegions = 3;  // e.g. SRAM, CCM, PSRAM; Runtime keeps one pointer each

struct PlanRegions {
  uint32_t num_regions, regions_offset;  // RegionRecord[num_regions], 1..kMaxRegions
  uint32_t num_copies, copies_offset;    // CopyRecord[num_copies], by increasing tensor
};

struct RegionRecord {
  char name[12];  // "sram", "psram", ...: NUL-terminated, NUL-padded
  uint32_t size;  // bytes of arena the plan needs in this region; region 0: = arena_size
};

struct CopyRecord {
  uint16_t tensor;  // a Storage::copied tensor
  uint16_t reserved;
  uint32_t source_offset;  // its bytes in the data section, copied into its region at init
};

// The audio front-end section (version 2.3 on, only in blobs that carry one): right after
// PlanRegions, inside header_size. A 2.3 blob always has PlanRegions (one unnamed region of
// arena_size bytes when the plan does not use --memory), so 2.2 readers still run its model.
// The section (FrontendConfig + tables, tinyforge/audio_frontend.h) lies after the data
// section; check_frontend() validates it.
struct PlanFrontend {
  uint32_t offset, size;  // 4-aligned, inside [header_size, total_size)
};

constexpr uint8_t kMaxRank = 4;

struct TensorRecord {
  uint8_t dtype;    // DType
  uint8_t rank;     // 0..kMaxRank
  uint8_t storage;  // Storage
  uint8_t region;   // arena/copied: index of the region's arena (2.2 on; before: reserved, 0)
  int32_t dims[kMaxRank];  // dims[rank..] are 1
  uint32_t offset;         // arena or data offset (see storage)
  uint32_t size_bytes;     // = product(dims) * dtype_size
  float scale;             // quantization of int8 tensors (informative for I/O), 0 if none
  int32_t zero_point;
};

struct OpRecord {
  uint16_t opcode;  // OpCode
  uint8_t num_inputs, num_outputs;
  uint32_t io_at;           // indices[io_at .. +num_inputs) inputs, then outputs
  uint32_t params_offset;   // into the blob's data section
  uint32_t params_size;     // = sizeof(params struct of opcode)
  uint32_t scratch_offset;  // arena offset of this op's scratch buffer
  uint32_t scratch_size;    // 0 when the kernel needs none
};

static_assert(sizeof(PlanHeader) == 72, "PlanHeader layout is part of the format");
static_assert(sizeof(TensorRecord) == 36, "TensorRecord layout is part of the format");
static_assert(sizeof(OpRecord) == 24, "OpRecord layout is part of the format");
static_assert(sizeof(PlanTarget) == 20, "PlanTarget layout is part of the format");
static_assert(sizeof(PlanRegions) == 16, "PlanRegions layout is part of the format");
static_assert(sizeof(RegionRecord) == 16, "RegionRecord layout is part of the format");
static_assert(sizeof(CopyRecord) == 8, "CopyRecord layout is part of the format");
static_assert(sizeof(PlanFrontend) == 8, "PlanFrontend layout is part of the format");

// CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), as used by zlib/PNG.
uint32_t crc32(const uint8_t* data, uint32_t size, uint32_t crc = 0);

// CRC-32 of bytes [0, total_size) skipping the 4 checksum bytes at offset 68.
// Precondition: 72 <= total_size <= the buffer's size.
uint32_t plan_checksum(const uint8_t* blob, uint32_t total_size);

}  // namespace tinyforge
