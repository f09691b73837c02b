#include "emit/device_profile.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "emit/cortex_m_targets.h"
#include "emit/model_ops.h"
#include "emit/validated_plan.h"
#include "io/files.h"
#include "ir/error.h"
#include "plan/select_kernels.h"
#include "tinyforge/plan_format.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge::emit {
namespace {

constexpr const char* kFormat = "tinyforge-device-profile";
constexpr int kVersion = 1;

std::optional<OpCode> op_named(const std::string& name) {
  for (uint16_t i = 0; i < kNumOps; ++i)
    if (name == op_info(static_cast<OpCode>(i)).name) return static_cast<OpCode>(i);
  return std::nullopt;
}

std::string op_list(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

plan::KernelSet kernel_set_of(const std::string& target) {
  return plan::kernel_set_for(find_target(target).cpu_flags);
}

}  // namespace

std::set<OpCode> resolve_kernels(const std::string& spec, const std::string& target,
                                 const std::set<OpCode>& plan_ops) {
  if (spec == "model") return plan_ops;
  if (spec == "all") {
    const bool dsp = kernel_set_of(target) == plan::KernelSet::armv7em;
    std::set<OpCode> all;
    for (uint16_t i = 0; i < kNumOps; ++i)
      if (dsp || !plan::is_dsp_twin(static_cast<OpCode>(i))) all.insert(static_cast<OpCode>(i));
    return all;
  }
  std::set<OpCode> listed;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string name = spec.substr(start, comma - start);
    const std::optional<OpCode> op = op_named(name);
    if (!op)
      throw tinyforge::Error("--kernels: '" + name +
                             "' is not an op (model, all, or op names of docs/ops.md separated "
                             "by commas)");
    listed.insert(*op);
    start = comma + 1;
  }
  std::vector<std::string> missing;
  for (OpCode op : plan_ops)
    if (!listed.count(op)) missing.push_back(op_info(op).name);
  if (!missing.empty())
    throw tinyforge::Error("--kernels: the image's own model needs " + op_list(missing) +
                           " (add them to the list)");
  return listed;
}

DeviceProfile device_profile(const std::string& target, const std::set<OpCode>& kernels,
                             bool memory_regions, const KernelPaths& paths) {
  DeviceProfile p;
  p.target = target;
  p.kernel_variant = kernel_set_of(target) == plan::KernelSet::armv7em ? "armv7em" : "reference";
  p.plan_major = kPlanVersionMajor;
  p.plan_minor = memory_regions ? kPlanVersionMinor : kPlanMinorWithoutRegions;
  p.paths = paths;
  p.kernels = kernels;
  return p;
}

std::string device_profile_json(const DeviceProfile& profile) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["target"] = profile.target;
  j["kernel_variant"] = profile.kernel_variant;
  j["plan_format"] = {{"major", profile.plan_major}, {"minor", profile.plan_minor}};
  j["int16"] = profile.paths.int16;
  j["exact_requant"] = profile.paths.exact_requant;
  j["float32"] = profile.paths.float32;
  j["kernels"] = nlohmann::ordered_json::array();
  for (OpCode op : profile.kernels)
    j["kernels"].push_back({{"opcode", static_cast<uint16_t>(op)}, {"name", op_info(op).name}});
  return j.dump(1) + "\n";
}

DeviceProfile read_device_profile(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  const nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  auto fail = [&path](const std::string& what) {
    return tinyforge::Error(path + ": not a device profile: " + what +
                            " (`tinyforge firmware` writes device.json beside the image)");
  };
  if (j.is_discarded() || !j.is_object()) throw fail("not a JSON object");
  if (j.value("format", "") != kFormat)
    throw fail("\"format\" is not \"" + std::string(kFormat) + "\"");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"] != kVersion)
    throw fail("\"version\" is not " + std::to_string(kVersion));
  DeviceProfile p;
  if (!j.contains("target") || !j["target"].is_string()) throw fail("no \"target\" string");
  p.target = j["target"];
  try {
    find_target(p.target);
  } catch (const tinyforge::Error& e) {
    throw fail(std::string("\"target\": ") + e.what());
  }
  if (!j.contains("kernel_variant") || !j["kernel_variant"].is_string() ||
      (j["kernel_variant"] != "reference" && j["kernel_variant"] != "armv7em"))
    throw fail("\"kernel_variant\" is not \"reference\" or \"armv7em\"");
  p.kernel_variant = j["kernel_variant"];
  const nlohmann::json& format = j.contains("plan_format") ? j["plan_format"] : nlohmann::json();
  for (const char* key : {"major", "minor"})
    if (!format.is_object() || !format.contains(key) || !format[key].is_number_unsigned() ||
        format[key].get<uint64_t>() > 0xFFFF)
      throw fail(std::string("\"plan_format\" has no \"") + key + "\" number 0..65535");
  p.plan_major = format["major"].get<uint16_t>();
  p.plan_minor = format["minor"].get<uint16_t>();
  struct Flag {
    const char* key;
    bool KernelPaths::*member;
  };
  for (const Flag f :
       {Flag{"int16", &KernelPaths::int16}, Flag{"exact_requant", &KernelPaths::exact_requant},
        Flag{"float32", &KernelPaths::float32}}) {
    if (!j.contains(f.key)) continue;
    if (!j[f.key].is_boolean()) throw fail(std::string("\"") + f.key + "\" is not true or false");
    p.paths.*f.member = j[f.key].get<bool>();
  }
  if (!j.contains("kernels") || !j["kernels"].is_array() || j["kernels"].empty())
    throw fail("no \"kernels\" list");
  for (const nlohmann::json& k : j["kernels"]) {
    if (!k.is_object() || !k.contains("opcode") || !k["opcode"].is_number_unsigned() ||
        !k.contains("name") || !k["name"].is_string())
      throw fail("a \"kernels\" entry is not {\"opcode\": N, \"name\": \"Op\"}");
    const uint64_t code = k["opcode"];
    const std::string name = k["name"];
    // Opcode and name must agree with this build's ops.def: the plan format fixes opcodes.
    if (code >= kNumOps || name != op_info(static_cast<OpCode>(code)).name)
      throw fail("kernel " + name + " with opcode " + std::to_string(code) +
                 " is not an op of this tinyforge (docs/ops.md)");
    p.kernels.insert(static_cast<OpCode>(code));
  }
  return p;
}

std::vector<std::string> refusals_for_device(const DeviceProfile& profile,
                                             const std::vector<uint8_t>& blob) {
  const ValidatedPlan plan(blob, "plan blob");
  std::vector<std::string> refusals;
  if (plan.header().version_major != profile.plan_major)
    refusals.push_back("the plan is format " + std::to_string(plan.header().version_major) +
                       ".x, the device's runtime reads " + std::to_string(profile.plan_major) +
                       ".x");
  else if (plan.header().version_minor > profile.plan_minor)
    refusals.push_back(
        "the plan is format " + std::to_string(plan.header().version_major) + "." +
        std::to_string(plan.header().version_minor) +
        (has_regions(plan.header()) ? " (memory regions)" : "") + ", the device's runtime reads " +
        "up to " + std::to_string(profile.plan_major) + "." + std::to_string(profile.plan_minor) +
        (has_regions(plan.header()) ? " (rebuild the firmware with the plan's --memory)" : ""));
  const KernelPaths needs = kernel_paths(blob);
  if (needs.int16 && !profile.paths.int16)
    refusals.push_back(
        "the plan has int16 tensors, the device's image was built without the int16 kernel "
        "paths (rebuild the firmware for a plan with int16 tensors, or with `--kernels all`)");
  if (needs.exact_requant && !profile.paths.exact_requant)
    refusals.push_back(
        "the plan's DSP ops use the exact output stage, the device's image has only the fast "
        "one (rebuild the firmware for a plan that uses it, or with `--kernels all`)");
  if (needs.float32 && !profile.paths.float32)
    refusals.push_back(
        "the plan has float32 tensors, the device's image was built without the float kernel "
        "paths (rebuild the firmware for a plan with float32 tensors, or with `--kernels all`)");
  std::vector<std::string> missing;
  for (OpCode op : ops_in_blob(blob))
    if (!profile.kernels.count(op)) missing.push_back(op_info(op).name);
  if (!missing.empty())
    refusals.push_back("the device's image has no kernel for " + op_list(missing) +
                       " (rebuild the firmware with `--kernels` including them)");
  return refusals;
}

}  // namespace tinyforge::emit
