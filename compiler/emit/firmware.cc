#include "emit/firmware.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "emit/aot_cpp.h"
#include "emit/device_profile.h"
#include "emit/model_ops.h"
#include "emit/validated_plan.h"
#include "ir/graph.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

namespace tinyforge::emit {
namespace {

namespace fs = std::filesystem;

uint32_t round_up16(uint32_t v) { return v == 0 ? 16 : (v + 15u) & ~15u; }

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw tinyforge::Error(path.string() + ": cannot write");
}

const char* const kSourceHead =
    "#include <cstdint>\n\n"
    "#define TINYFORGE_MODEL __attribute__((section(\".tinyforge.model\"), used))\n"
    "#define TINYFORGE_NOINIT __attribute__((section(\".noinit\"), used))\n\n"
    "extern \"C\" {\n";

// `alignas(16) TINYFORGE_MODEL const uint8_t NAME[N] = {...};` (with its extern declaration).
void add_byte_array(std::string& s, const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string n = std::to_string(bytes.size());
  s += "extern const uint8_t " + name + "[" + n + "];\n";
  s += "alignas(16) TINYFORGE_MODEL const uint8_t " + name + "[" + n + "] = {";
  static const char* const kHex = "0123456789abcdef";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 24 == 0) s += "\n";
    s += "0x";
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 0xF];
    s += ',';
  }
  s += "\n};\n";
}

void add_constant(std::string& s, const std::string& name, uint64_t value) {
  s += "extern const uint32_t " + name + ";\n";
  s += "TINYFORGE_MODEL const uint32_t " + name + " = " + std::to_string(value) + ";\n";
}

void add_constants(std::string& s, const std::string& name, const std::vector<uint32_t>& values) {
  const std::string n = std::to_string(values.size());
  s += "extern const uint32_t " + name + "[" + n + "];\n";
  s += "TINYFORGE_MODEL const uint32_t " + name + "[" + n + "] = {";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  s += "};\n";
}

// The arena and the protocol's input/output buffers. `regions` empty: one arena in .bss;
// else one arena per plan region (tinyforge_arena is region 0's) and their table, for
// Runtime::init(blob, size, regions, n).
void add_buffers(std::string& s, uint32_t arena_capacity, uint32_t input_bytes,
                 uint32_t output_bytes, const std::vector<ArenaPlacement>& regions = {}) {
  add_constant(s, "tinyforge_arena_capacity", arena_capacity);
  add_constant(s, "tinyforge_input_size", input_bytes);
  add_constant(s, "tinyforge_output_size", output_bytes);
  if (regions.empty()) {
    s += "alignas(16) uint8_t tinyforge_arena[" + std::to_string(arena_capacity) + "];\n";
  } else {
    std::string table;
    for (size_t r = 0; r < regions.size(); ++r) {
      const std::string name = r == 0 ? "tinyforge_arena" : "tinyforge_arena_" + std::to_string(r);
      const std::string section =
          regions[r].section.empty()
              ? ""
              : " __attribute__((section(\"" + regions[r].section + "\"), used))";
      const std::string bytes = std::to_string(round_up16(regions[r].bytes));
      s += "alignas(16)" + section + " uint8_t " + name + "[" + bytes + "];\n";
      table += "{" + name + ", " + bytes + "}, ";
    }
    s += "}\n#include \"tinyforge/runtime.h\"\nextern \"C\" {\n";
    s += "extern const tinyforge::ArenaRegion tinyforge_arena_regions[];\n";
    s += "const tinyforge::ArenaRegion tinyforge_arena_regions[] = {" + table + "};\n";
    add_constant(s, "tinyforge_num_arena_regions", regions.size());
  }
  s +=
      "alignas(8) TINYFORGE_NOINIT uint8_t tinyforge_input[" + std::to_string(input_bytes) + "];\n";
  s += "alignas(8) TINYFORGE_NOINIT uint8_t tinyforge_output[" + std::to_string(output_bytes) +
       "];\n";
}

void select_board(const FirmwareOptions& options, FirmwareImage& image) {
  image.target = find_target(options.target);
  if (options.board.empty()) {
    image.board = find_board(image.target.default_board);
    image.generic_map = true;
  } else {
    image.board = find_board(options.board);
    image.generic_map = false;
    if (image.board.target != image.target.name)
      throw tinyforge::Error("board " + image.board.name + " has a " + image.board.target +
                             " core, not " + image.target.name);
  }
}

// The arena of each of the plan's regions (a plan without regions: region 0 is the fastest
// writable --memory region), and the linker regions the ones outside the main RAM need.
std::vector<ArenaPlacement> region_arenas(const ValidatedPlan& plan,
                                          const std::vector<PlacedRegion>& memory,
                                          std::vector<LinkRegion>& link_regions) {
  const uint32_t n = Runtime::num_regions(plan.data());
  const PlanRegions table = read_regions(plan.data(), plan.header());
  const std::vector<plan::MemoryRegionSpec> by_speed =
      plan::writable_regions_by_speed(resolved_spec(memory));
  std::vector<ArenaPlacement> arenas;
  for (uint32_t r = 0; r < n; ++r) {
    const std::string name = uses_memory_regions(plan.data(), plan.header())
                                 ? std::string(read_region(plan.data(), table, r).name)
                                 : by_speed.at(0).name;
    const auto placed = std::find_if(memory.begin(), memory.end(), [&](const PlacedRegion& p) {
      return p.spec.name == name && !p.spec.xip;
    });
    if (placed == memory.end())
      throw tinyforge::Error("the plan's memory region '" + name +
                             "' is not a writable region of --memory");
    const uint32_t bytes = Runtime::region_size(plan.data(), r);
    if (bytes > placed->spec.bytes)
      throw tinyforge::Error(
          fmt::format("memory region '{}' ({} bytes) is too small for the plan's {} bytes there",
                      name, placed->spec.bytes, bytes));
    ArenaPlacement a{"", bytes};
    if (!placed->main_ram) {
      a.section = ".tinyforge.region." + name;
      link_regions.push_back({name, {*placed->spec.origin, placed->spec.bytes}});
    }
    arenas.push_back(a);
  }
  return arenas;
}

// The kernel paths the image carries: those its plans need; every one for `--kernels all`
// (an image for any plan of its target).
KernelPaths image_paths(const FirmwareOptions& options,
                        const std::vector<std::vector<uint8_t>>& blobs) {
  if (options.kernels == "all") return KernelPaths{};
  KernelPaths paths{false, false, false};
  for (const std::vector<uint8_t>& blob : blobs) {
    const KernelPaths p = kernel_paths(blob);
    paths.int16 = paths.int16 || p.int16;
    paths.exact_requant = paths.exact_requant || p.exact_requant;
    paths.float32 = paths.float32 || p.float32;
  }
  return paths;
}

fs::path make_source_dir(const std::string& out_dir) {
  std::error_code ec;
  const fs::path src = fs::path(out_dir) / "src";
  fs::create_directories(src, ec);
  if (ec) throw tinyforge::Error(out_dir + ": cannot create: " + ec.message());
  return src;
}

// Links `sources` (+ the image's kernel set: dispatch.cc, the op table, the executor and the
// validator compiled with it) into DIR/firmware.elf; a plan image's device profile goes beside it.
// `arenas`: the
// --memory region arenas of model_data_source (empty: one arena in .bss), `link_regions`
// the linker regions they need.
void link_image(std::vector<std::string> sources, bool plan_image, const FirmwareOptions& options,
                const std::string& out_dir, const Logger& log, FirmwareImage& image,
                const std::vector<ArenaPlacement>& arenas = {},
                const std::vector<LinkRegion>& link_regions = {}) {
  const fs::path src = fs::path(out_dir) / "src";
  write_text(src / "tinyforge_model_ops.h",
             model_ops_header(image.kernels, image.memory_regions, image.paths));
  if (plan_image)
    for (const char* file : {"dispatch.cc", "names.cc", "runtime.cc", "validate.cc"})
      sources.push_back(tinyforge_home() + "/runtime/src/" + file);
  ImageSpec spec;
  spec.sources = std::move(sources);
  spec.lto = !plan_image;  // an --aot image: its kernels specialized for its constant operands
  spec.runtime_defines = runtime_defines(image.paths);
  if (options.op_markers && plan_image) spec.defines.push_back("TINYFORGE_OP_MARKERS=1");
  if (!arenas.empty()) spec.defines.push_back("TINYFORGE_MEMORY_REGIONS=1");
  spec.regions = link_regions;
  spec.target = image.target;
  spec.flash = image.generic_map ? generic_flash() : image.board.flash;
  spec.ram = image.generic_map ? generic_ram() : image.board.ram;
  spec.min_stack = options.min_stack;
  spec.include_dirs = {src.string(), tinyforge_home() + "/runtime"};
  image.elf_path = (fs::path(out_dir) / "firmware.elf").string();
  build_image(spec, (fs::path(out_dir) / "obj").string(), image.elf_path, log);
  if (plan_image) {
    image.profile_path = (fs::path(out_dir) / "device.json").string();
    write_text(image.profile_path,
               device_profile_json(device_profile(image.target.name, image.kernels,
                                                  image.memory_regions, image.paths)));
  }
}

}  // namespace

std::string model_data_source(const std::vector<uint8_t>& blob, uint32_t input_bytes,
                              uint32_t output_bytes, uint32_t arena_bytes,
                              const std::vector<ArenaPlacement>& regions) {
  std::string s;
  s.reserve(blob.size() * 5 + 2048);
  s += "// Generated by `tinyforge firmware`: the model's plan blob and the buffers of\n"
       "// targets/firmware/bench_main.cc. Do not edit.\n";
  s += kSourceHead;
  add_byte_array(s, "tinyforge_model_blob", blob);
  add_constant(s, "tinyforge_model_blob_size", blob.size());
  add_buffers(s, round_up16(arena_bytes), input_bytes, output_bytes, regions);
  s += "}\n";
  return s;
}

FirmwareImage build_firmware(const std::vector<uint8_t>& blob, const FirmwareOptions& options,
                             const std::string& out_dir, const Logger& log) {
  FirmwareImage image;
  select_board(options, image);

  // Sizes from the runtime itself: the same validation the device does at init.
  const ValidatedPlan plan(blob, "plan blob");
  image.input_bytes = plan.input_bytes();
  image.output_bytes = plan.output_bytes();
  image.arena_bytes = plan.header().arena_size;
  if (image.input_bytes == 0 || image.output_bytes == 0)
    throw tinyforge::Error("the plan has no input or no output bytes");
  if (options.aot && options.kernels != "model")
    throw tinyforge::Error("--kernels " + options.kernels +
                           ": an --aot image calls its own model's kernels and cannot run "
                           "another plan (build a plan image, without --aot)");
  image.kernels = resolve_kernels(options.kernels, image.target.name, ops_in_blob(blob));
  image.paths = image_paths(options, {blob});
  std::vector<ArenaPlacement> arenas;
  std::vector<LinkRegion> link_regions;
  image.memory_regions = has_regions(plan.header());
  if (uses_memory_regions(plan.data(), plan.header()) && options.memory.empty())
    throw tinyforge::Error(
        "the plan places tensors in several memory regions: give the --memory it was compiled "
        "with");
  if (!options.memory.empty()) {
    if (options.aot) throw tinyforge::Error("--aot does not support --memory yet");
    image.memory = place_memory(options.memory, image.generic_map ? nullptr : &image.board);
    arenas = region_arenas(plan, image.memory, link_regions);
  }

  const fs::path src = make_source_dir(out_dir);
  const std::string model_src = (src / "model_data.cc").string();
  write_text(model_src, model_data_source(blob, image.input_bytes, image.output_bytes,
                                          image.arena_bytes, arenas));
  if (options.aot) {  // no blob, executor or dispatch: emit/aot_cpp.h's code and main()
    const std::string aot_src = (src / "model_aot.cc").string();
    AotOptions aot;
    aot.with_main = true;
    write_text(aot_src, emit_aot_cpp(blob, aot));
    link_image({aot_src}, false, options, out_dir, log, image);
  } else {
    link_image({model_src, tinyforge_home() + "/targets/firmware/bench_main.cc"}, true, options,
               out_dir, log, image, arenas, link_regions);
  }
  return image;
}

FirmwareImage build_listen_firmware(const std::vector<uint8_t>& blob, uint32_t pcm_samples,
                                    const FirmwareOptions& options, const std::string& out_dir,
                                    const Logger& log) {
  if (options.aot || !options.memory.empty())
    throw tinyforge::Error(
        "a listening image runs the plan blob in one arena (no --aot, --memory)");
  FirmwareImage image;
  select_board(options, image);
  const ValidatedPlan plan(blob, "plan blob");
  if (read_frontend(plan.data(), plan.header()).size == 0)
    throw tinyforge::Error("the plan blob has no audio front-end (compile it with --frontend)");
  if (plan.header().num_inputs != 1 || plan.header().num_outputs != 1 || pcm_samples == 0)
    throw tinyforge::Error("a listening image needs one model input, one output and samples");
  image.memory_regions = has_regions(plan.header());  // a 2.3 blob carries PlanRegions
  image.input_bytes = 2 * pcm_samples;
  image.output_bytes = plan.output_bytes() + plan.input_bytes();
  image.arena_bytes = plan.header().arena_size;
  image.kernels = resolve_kernels(options.kernels, image.target.name, ops_in_blob(blob));
  image.paths = image_paths(options, {blob});
  const fs::path src = make_source_dir(out_dir);
  const std::string model_src = (src / "model_data.cc").string();
  write_text(model_src,
             model_data_source(blob, image.input_bytes, image.output_bytes, image.arena_bytes));
  FirmwareOptions with_markers = options;
  with_markers.op_markers = true;
  link_image({model_src, tinyforge_home() + "/targets/firmware/listen_main.cc"}, true, with_markers,
             out_dir, log, image);
  return image;
}

namespace {

std::string shared_arena_source(const std::vector<std::vector<uint8_t>>& blobs,
                                const plan::SharedArena& layout, uint32_t input_bytes,
                                uint32_t output_bytes) {
  std::string s;
  s += "// Generated by `tinyforge firmware`: the plan blobs of several models over one arena,\n"
       "// for targets/firmware/multi_main.cc. Do not edit.\n";
  s += kSourceHead;
  std::vector<uint32_t> sizes;
  for (size_t i = 0; i < blobs.size(); ++i) {
    add_byte_array(s, "tinyforge_model_" + std::to_string(i), blobs[i]);
    sizes.push_back(static_cast<uint32_t>(blobs[i].size()));
  }
  s += "extern const uint8_t* const tinyforge_models[" + std::to_string(blobs.size()) + "];\n";
  s += "TINYFORGE_MODEL const uint8_t* const tinyforge_models[" + std::to_string(blobs.size()) +
       "] = {";
  for (size_t i = 0; i < blobs.size(); ++i)
    s += (i ? ", " : "") + std::string("tinyforge_model_") + std::to_string(i);
  s += "};\n";
  add_constant(s, "tinyforge_num_models", blobs.size());
  add_constants(s, "tinyforge_model_sizes", sizes);
  add_constants(s, "tinyforge_arena_offsets", layout.offsets);
  add_constants(s, "tinyforge_arena_regions", layout.regions);
  add_buffers(s, layout.total_bytes, input_bytes, output_bytes);
  s += "}\n";
  return s;
}

}  // namespace

FirmwareImage build_shared_arena_firmware(const std::vector<std::vector<uint8_t>>& blobs,
                                          const plan::SharedArena& layout,
                                          const FirmwareOptions& options,
                                          const std::string& out_dir, const Logger& log) {
  if (blobs.empty() || layout.offsets.size() != blobs.size() ||
      layout.regions.size() != blobs.size())
    throw tinyforge::Error("shared-arena firmware: one arena region per plan blob is needed");
  if (options.aot)
    throw tinyforge::Error("--aot builds one model per image; several models run as plans");
  if (!options.memory.empty())
    throw tinyforge::Error("--memory does not support several models over one shared arena yet");
  if (blobs.size() > kMaxSharedArenaModels)
    throw tinyforge::Error("shared-arena firmware: at most " +
                           std::to_string(kMaxSharedArenaModels) + " models per image");
  FirmwareImage image;
  select_board(options, image);
  std::set<OpCode> plan_ops;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const ValidatedPlan plan(blobs[i], "plan blob " + std::to_string(i));
    if (plan.input_bytes() == 0 || plan.output_bytes() == 0)
      throw tinyforge::Error("plan blob " + std::to_string(i) + " has no input or output bytes");
    if (plan.header().arena_size > layout.regions[i])
      throw tinyforge::Error(
          "plan blob " + std::to_string(i) + " needs " + std::to_string(plan.header().arena_size) +
          " arena bytes, its region " + "has " + std::to_string(layout.regions[i]));
    image.input_bytes += plan.input_bytes();
    image.output_bytes += plan.output_bytes();
    image.memory_regions = image.memory_regions || has_regions(plan.header());
    const std::set<OpCode> ops = ops_in_blob(blobs[i]);
    plan_ops.insert(ops.begin(), ops.end());
  }
  image.output_bytes *= kSharedArenaRounds;
  image.arena_bytes = layout.total_bytes;
  image.kernels = resolve_kernels(options.kernels, image.target.name, plan_ops);
  image.paths = image_paths(options, blobs);

  const fs::path src = make_source_dir(out_dir);
  const std::string model_src = (src / "model_data.cc").string();
  write_text(model_src, shared_arena_source(blobs, layout, image.input_bytes, image.output_bytes));
  link_image({model_src, tinyforge_home() + "/targets/firmware/multi_main.cc"}, true, options,
             out_dir, log, image);
  return image;
}

}  // namespace tinyforge::emit
