// tinyforge inspect FILE [--json]: a model (.tflite/.onnx) or a plan blob (.tfp).
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contract.h"
#include "emit/validated_plan.h"
#include "host/compile.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "ops/host_op.h"
#include "ota/package_describe.h"
#include "plan/build_plan.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

namespace tinyforge::cli {
namespace {

using nlohmann::json;

std::string shape_text(const std::vector<int32_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

const char* activation_name(ir::Activation a) {
  switch (a) {
    case ir::Activation::none:
      return "none";
    case ir::Activation::relu:
      return "relu";
    case ir::Activation::relu6:
      return "relu6";
    case ir::Activation::relu_n1_to_1:
      return "relu_n1_to_1";
  }
  return "?";
}

json describe_model(const std::string& path) {
  ir::Graph g = load_model(path);
  const ir::GraphMetrics m = ir::graph_metrics(g);
  json j;
  j["file"] = path;
  j["kind"] = "model";
  j["inputs"] = g.inputs;
  j["outputs"] = g.outputs;
  j["tensors"] = json::array();
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const ir::Tensor& x = g.tensors[t];
    json jt = {{"index", t},
               {"name", x.name},
               {"dtype", dtype_name(x.type)},
               {"shape", x.shape},
               {"constant", x.constant}};
    if (x.quant.present()) {
      jt["scale"] = x.quant.scale;
      jt["zero_point"] = x.quant.zero_point;
      if (x.quant.per_channel()) jt["quantized_dimension"] = x.quant.axis;
    }
    j["tensors"].push_back(jt);
  }
  j["ops"] = json::array();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& n = g.nodes[i];
    json jo = {{"index", i},
               {"op", op_info(n.op).name},
               {"name", n.name},
               {"inputs", n.inputs},
               {"outputs", n.outputs},
               {"macs", m.nodes[i].macs},
               {"params", m.nodes[i].params}};
    if (const auto describe = ops::host_op(n.op).describe) describe(n, jo);
    if (const ir::Activation act = ops::fused_activation(n); act != ir::Activation::none)
      jo["activation"] = activation_name(act);
    j["ops"].push_back(jo);
  }
  j["macs"] = m.macs;
  j["params"] = m.params;
  j["weight_bytes"] = m.weight_bytes;
  try {
    j["arena_bytes"] = plan::build_plan(std::move(g)).arena_size;
  } catch (const tinyforge::Error& e) {
    j["arena_bytes"] = nullptr;
    std::string error = e.what();  // one line, also when several ops are refused
    for (size_t at = error.find('\n'); at != std::string::npos; at = error.find('\n', at))
      error.replace(at, 1, "; ");
    j["plan_error"] = error;
  }
  return j;
}

json describe_blob(const std::string& path, const std::vector<uint8_t>& bytes) {
  const emit::ValidatedPlan plan(bytes, path);
  const PlanReader& reader = plan.reader();
  const PlanHeader& h = reader.header();
  json j;
  j["file"] = path;
  j["kind"] = "plan_blob";
  j["version"] = fmt::format("{}.{}", h.version_major, h.version_minor);
  j["blob_bytes"] = h.total_size;
  j["data_bytes"] = h.data_size;
  j["arena_bytes"] = h.arena_size;
  if (const std::optional<BlobTarget> t = blob_target(bytes)) {
    j["target"] = t->target;
    j["kernels"] = t->dsp_kernels ? "armv7em" : "reference";
  } else {
    j["target"] = nullptr;  // format 1.0: not recorded
  }
  const PlanRegions regions = read_regions(reader.blob(), h);
  const bool memory_regions = uses_memory_regions(reader.blob(), h);  // not 1.3's default one
  if (memory_regions) {
    j["regions"] = json::array();
    for (uint32_t r = 0; r < regions.num_regions; ++r) {
      const RegionRecord rec = read_region(reader.blob(), regions, r);
      j["regions"].push_back({{"name", rec.name}, {"bytes", rec.size}});
    }
    j["copied_at_init"] = regions.num_copies;
  }
  if (const PlanFrontend f = read_frontend(reader.blob(), h); f.size > 0) {
    FrontendConfig c;
    std::memcpy(&c, reader.blob() + f.offset, sizeof c);
    j["frontend"] = {{"bytes", f.size},
                     {"sample_rate", c.sample_rate},
                     {"window_samples", c.window_samples},
                     {"hop_samples", c.hop_samples},
                     {"fft_size", c.fft_size},
                     {"channels", c.num_channels},
                     {"lower_hz", c.lower_hz},
                     {"upper_hz", c.upper_hz},
                     {"pcan", (c.flags & kFrontendPcan) != 0},
                     {"log", (c.flags & kFrontendLog) != 0},
                     {"mfcc", (c.flags & kFrontendMfcc) ? c.num_features : 0},
                     {"features_per_frame", c.num_features},
                     {"frames", c.num_frames}};
  }
  j["tensors"] = json::array();
  for (uint32_t t = 0; t < h.num_tensors; ++t) {
    const TensorRecord r = reader.tensor(t);
    const Storage storage = static_cast<Storage>(r.storage);
    j["tensors"].push_back({{"index", t},
                            {"dtype", dtype_name(static_cast<DType>(r.dtype))},
                            {"shape", std::vector<int32_t>(r.dims, r.dims + r.rank)},
                            {"storage", storage == Storage::arena      ? "arena"
                                        : storage == Storage::constant ? "constant"
                                        : storage == Storage::state    ? "state"
                                                                       : "copied"},
                            {"offset", r.offset},
                            {"bytes", r.size_bytes},
                            {"scale", r.scale},
                            {"zero_point", r.zero_point}});
    if (memory_regions) j["tensors"].back()["region"] = tensor_region(h, r);
  }
  j["ops"] = json::array();
  for (uint32_t i = 0; i < h.num_ops; ++i) {
    const OpRecord r = reader.op(i);
    std::vector<int> in, out;
    for (uint32_t k = 0; k < r.num_inputs; ++k) {
      const uint16_t t = reader.op_input(r, k);
      in.push_back(t == kNoTensor ? -1 : t);
    }
    for (uint32_t k = 0; k < r.num_outputs; ++k) out.push_back(reader.op_output(r, k));
    j["ops"].push_back({{"index", i},
                        {"op", op_info(static_cast<OpCode>(r.opcode)).name},
                        {"inputs", in},
                        {"outputs", out},
                        {"scratch_bytes", r.scratch_size}});
  }
  std::vector<int> ins, outs;
  for (uint32_t i = 0; i < h.num_inputs; ++i) ins.push_back(reader.model_input(i));
  for (uint32_t i = 0; i < h.num_outputs; ++i) outs.push_back(reader.model_output(i));
  j["inputs"] = ins;
  j["outputs"] = outs;
  return j;
}

std::string quant_text(const json& t) {
  if (!t.contains("scale")) return "";
  const json& s = t["scale"];
  if (s.is_array() && s.size() > 1) return fmt::format("per-channel({})", s.size());
  const double scale = s.is_array() ? s[0].get<double>() : s.get<double>();
  const json& z = t["zero_point"];
  const long zp = z.is_array() ? z[0].get<long>() : z.get<long>();
  return scale == 0 ? "" : fmt::format("s={:.6g} zp={}", scale, zp);
}

void print_text(const json& j) {
  std::printf("%s (%s)\n", j["file"].get<std::string>().c_str(),
              j["kind"].get<std::string>().c_str());
  std::printf("ops: %zu\n", j["ops"].size());
  for (const json& o : j["ops"]) {
    std::string line =
        fmt::format("  {:3} {:<16} in {} -> out {}", o["index"].get<int>(),
                    o["op"].get<std::string>(), o["inputs"].dump(), o["outputs"].dump());
    if (o.contains("macs"))
      line +=
          fmt::format("  macs {} params {}", o["macs"].get<int64_t>(), o["params"].get<int64_t>());
    if (o.contains("activation")) line += " +" + o["activation"].get<std::string>();
    std::printf("%s\n", line.c_str());
  }
  std::printf("tensors: %zu\n", j["tensors"].size());
  for (const json& t : j["tensors"]) {
    const bool constant =
        t.contains("constant") ? t["constant"].get<bool>() : t["storage"] == "constant";
    std::printf("  %3d %-8s %-18s %-9s %s %s\n", t["index"].get<int>(),
                t["dtype"].get<std::string>().c_str(),
                shape_text(t["shape"].get<std::vector<int32_t>>()).c_str(), constant ? "const" : "",
                quant_text(t).c_str(), t.value("name", "").c_str());
  }
  std::printf("inputs: %s  outputs: %s\n", j["inputs"].dump().c_str(), j["outputs"].dump().c_str());
  if (j.contains("macs"))
    std::printf("macs: %lld  params: %lld  weight bytes: %lld\n",
                static_cast<long long>(j["macs"].get<int64_t>()),
                static_cast<long long>(j["params"].get<int64_t>()),
                static_cast<long long>(j["weight_bytes"].get<int64_t>()));
  if (j["arena_bytes"].is_null())
    std::printf("arena bytes: not plannable: %s\n", j["plan_error"].get<std::string>().c_str());
  else
    std::printf("arena bytes: %u\n", j["arena_bytes"].get<uint32_t>());
  if (j.contains("regions"))
    for (const json& r : j["regions"])
      std::printf("  region %s: %u bytes\n", r["name"].get<std::string>().c_str(),
                  r["bytes"].get<uint32_t>());
  if (j.contains("blob_bytes")) std::printf("blob bytes: %u\n", j["blob_bytes"].get<uint32_t>());
  if (j.contains("frontend")) {
    const json& f = j["frontend"];
    std::printf(
        "audio front-end: %u Hz, window %u / hop %u samples, %u-point FFT, %u channels "
        "%g-%g Hz%s%s, %u frames of %u features (%u bytes)\n",
        f["sample_rate"].get<uint32_t>(), f["window_samples"].get<uint32_t>(),
        f["hop_samples"].get<uint32_t>(), f["fft_size"].get<uint32_t>(),
        f["channels"].get<uint32_t>(), f["lower_hz"].get<double>(), f["upper_hz"].get<double>(),
        f["pcan"].get<bool>() ? ", PCAN" : "", f["log"].get<bool>() ? ", log" : "",
        f["frames"].get<uint32_t>(), f["features_per_frame"].get<uint32_t>(),
        f["bytes"].get<uint32_t>());
  }
  if (j.contains("target"))
    std::printf("compiled for: %s\n", j["target"].is_null()
                                          ? "not recorded (format 1.0)"
                                          : (j["target"].get<std::string>() + " (" +
                                             j["kernels"].get<std::string>() + " kernels)")
                                                .c_str());
}

}  // namespace

// Will the model run on `target`? The whole compile path (import, passes, kernels); throws
// UnsupportedOps naming every op that does not import or has no kernel there.
void check_runs(const std::string& path, const std::string& target) {
  host::compile_model_file(path, host::plan_options_for_target(target));
}

void add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "inspect",
      "Show a model's or plan blob's ops, tensors, MACs, params and planned arena, or an OTA "
      "package's manifest; with --target, whether every op of the model runs there");
  auto path = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("FILE", *path,
                  "model (TFLite/ONNX), plan blob or OTA package, told apart by content")
      ->required();
  cmd->add_option("-t,--target", *target,
                  "check that every op of the model imports and has a kernel for this target "
                  "(host | cortex-m4 | ...); lists every one that does not and exits 1")
      ->check(target_check(true));
  cmd->add_flag("--json", *as_json,
                "print one JSON object (keys: ops, tensors, macs, params, arena_bytes, ...)");
  cmd->callback([path, target, as_json] {
    const InputFile file = read_input(*path);
    const std::vector<uint8_t>& bytes = file.bytes;
    const FileKind kind = file.kind;
    if (kind == FileKind::ota_package) {  // the manifest, printed as it is
      json j = ota::describe_package(bytes);
      j["file"] = *path;
      std::printf("%s\n", j.dump(*as_json ? 1 : 2).c_str());
      return;
    }
    if (kind == FileKind::plan_blob) {
      const json j = describe_blob(*path, bytes);
      if (*as_json)
        std::printf("%s\n", j.dump(1).c_str());
      else
        print_text(j);
      return;
    }
    json j;
    try {
      if (!target->empty()) check_runs(*path, *target);  // names the target when it fails
      j = describe_model(*path);
    } catch (const UnsupportedOps& e) {  // --json: the list as data, then the error lines
      if (*as_json) {
        nlohmann::ordered_json failed = {{"file", *path}, {"kind", "model"}};
        if (!target->empty()) failed["target"] = *target;
        failed["unsupported"] = refusals_json(e);
        std::printf("%s\n", failed.dump(1).c_str());
      }
      throw;
    }
    if (*as_json) {
      if (!target->empty()) {
        j["target"] = *target;
        j["unsupported"] = json::array();
      }
      std::printf("%s\n", j.dump(1).c_str());
      return;
    }
    print_text(j);
    if (!target->empty())
      std::printf("runs on %s: every op imports and has a kernel there\n", target->c_str());
  });
}

}  // namespace tinyforge::cli
