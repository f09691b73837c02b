// The device profile: what a firmware image can run, written beside the image as
// device.json (docs/ota-format.md, "Device profile"). `tinyforge package --device` and
// `tinyforge verify --device` refuse an update whose plan the image cannot run.
//
//   {"format": "tinyforge-device-profile", "version": 1, "target": "cortex-m4",
//    "kernel_variant": "armv7em", "plan_format": {"major": 1, "minor": 1}, "int16": false,
//    "exact_requant": false, "float32": false,
//    "kernels": [{"opcode": 0, "name": "Conv2D"}, ...]}
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "emit/model_ops.h"
#include "tinyforge/ops.h"

namespace tinyforge::emit {

struct DeviceProfile {
  std::string target;          // targets/targets.json name
  std::string kernel_variant;  // "reference" or "armv7em" (plan_format.h KernelVariant)
  uint16_t plan_major = 0, plan_minor = 0;  // the plan format the image's runtime reads
  KernelPaths paths;                        // int16, exact-requant, float plans run (model_ops.h)
  std::set<OpCode> kernels;                 // the ops compiled into the image
};

// The kernel set of an image for `--kernels SPEC`: "model" (the plan's ops), "all" (every op
// the target's kernel variant can be compiled to: all of ops.def, less the DSP twins on a
// core without the DSP extension) or a comma-separated list of op names (ops.def) that
// must include the plan's ops. Throws tinyforge::Error naming an unknown op, or every op of
// the plan a list leaves out.
std::set<OpCode> resolve_kernels(const std::string& spec, const std::string& target,
                                 const std::set<OpCode>& plan_ops);

// The profile of an image built for `target` with `kernels`, by this build of the runtime;
// `memory_regions`: its runtime reads plans with memory regions (format 1.2), else it reads
// up to 1.1 (the region code is left out of such images); `paths`: the kernel paths it
// carries (a plan needing another is refused).
DeviceProfile device_profile(const std::string& target, const std::set<OpCode>& kernels,
                             bool memory_regions = true, const KernelPaths& paths = {});

std::string device_profile_json(const DeviceProfile& profile);

// Reads and checks every field (tinyforge::Error naming the file and the field). A profile
// without "int16", "exact_requant" or "float32" (written before the switches existed) is an
// image with those paths.
DeviceProfile read_device_profile(const std::string& path);

// Why the device of `profile` cannot run `blob` (a validated plan): the plan format's
// version, the target it was compiled for, a kernel path the image lacks (int16, the exact
// output stage, float32), every op the image lacks. Empty: it can.
std::vector<std::string> refusals_for_device(const DeviceProfile& profile,
                                             const std::vector<uint8_t>& blob);

}  // namespace tinyforge::emit
