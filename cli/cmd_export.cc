// tinyforge export MODEL --tflite [--json] -o OUT.tflite
// tinyforge export MODEL --as FORMAT --target T [--aot] [--name NAME] [--model-version V]
//                  [--force] [--json] -o DIR
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/contract.h"
#include "emit/package.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ota/package_writer.h"

namespace tinyforge::cli {
namespace {

namespace fs = std::filesystem;

// NAME from the model's file name when --name is absent: "kws_ref_model.tflite" ->
// "kws_ref_model"; other characters become '_' and a leading non-letter gets "model_".
std::string default_package_name(const std::string& model) {
  std::string name = fs::path(model).stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) name = "model_" + name;
  return name.substr(0, 63);
}

CLI::Validator package_name_check() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        const std::string problem = emit::package_name_problem(name);
        return problem.empty() ? "" : fmt::format("--name '{}' {}", name, problem);
      },
      "NAME");
}

CLI::Validator version_check() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        try {
          ota::parse_semver(text);
          return {};
        } catch (const std::exception&) {
          return fmt::format("--model-version '{}' is not MAJOR.MINOR.PATCH (e.g. 1.2.0)", text);
        }
      },
      "V");
}

// A package goes into an empty or new folder, unless --force.
void check_package_dir(const std::string& dir, bool force) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec))
    throw UsageError(dir + ": is not a folder (give -o a new or empty folder)");
  if (!force && !fs::is_empty(dir, ec))
    throw UsageError(dir +
                     ": folder is not empty (give a new folder, or --force to write into it)");
}

}  // namespace

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export",
      "Write a model as a TFLite flatbuffer, or as a library for your firmware build (--as)");
  struct Options {
    std::string model, out, format, target, name, model_version = "1.0.0";
    bool tflite = false, aot = false, force = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model file (TFLite or ONNX; with --as also a plan blob)")
      ->required();
  auto* tflite =
      cmd->add_flag("--tflite", o->tflite, "write a .tflite flatbuffer (-o names the file)");
  const std::vector<std::string> formats = emit::package_format_names();
  auto* as = cmd->add_option("--as", o->format,
                             fmt::format("write a library package into the folder -o: {} "
                                         "(layouts: docs/device-api.md, Packages)",
                                         fmt::join(formats, " | ")))
                 ->check(CLI::IsMember(formats));
  tflite->excludes(as);
  auto* target = cmd->add_option("-t,--target", o->target,
                                 "with --as (required): host (reference kernels, any CPU) or "
                                 "cortex-m4 | cortex-m7 | cortex-m0plus | cortex-m33")
                     ->check(target_check(true));
  cmd->add_flag("--aot", o->aot,
                "with --as: the model as ahead-of-time C++ (direct kernel calls) instead of a "
                "plan blob and the executor");
  cmd->add_option("--name", o->name,
                  "with --as: the package, library and header prefix (a C identifier; "
                  "default: the model's file name)")
      ->check(package_name_check());
  cmd->add_option("--model-version", o->model_version,
                  "with --as: MAJOR.MINOR.PATCH recorded in the header and the manifest")
      ->check(version_check())
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "with --as: write into a folder that is not empty");
  cmd->add_option("-o,--output", o->out, "file (--tflite) or folder (--as) to write")->required();
  o->result.add_flag(cmd);
  cmd->footer(
      "--tflite: the graph is written as tinyforge imports it (ONNX: NHWC, batch norm folded,\n"
      "activations fused).\n"
      "--as: DIR gets the runtime sources for the target (only the kernels the model uses),\n"
      "the model (plan blob as a C array, or AOT C++), src/NAME_model.h (arena, shapes, dtypes,\n"
      "scales, zero-points, version, SHA-256), example/main.cc and the format's manifest.");
  cmd->callback([o, target] {
    if (!o->tflite && o->format.empty())
      throw UsageError("export: give --tflite or --as FORMAT (see tinyforge export --help)");
    check_output(o->out, {o->model});
    if (o->tflite) {
      if (o->aot || o->force || !o->name.empty() || target->count() > 0)
        throw UsageError(
            "export: --target, --aot, --name and --force go with --as, not --tflite "
            "(see tinyforge export --help)");
      read_input(o->model);
      const ir::Graph graph = load_model(o->model);
      const std::vector<uint8_t> bytes = tflite_export::write_tflite(graph);
      io::write_file(o->out, bytes);
      nlohmann::ordered_json j;
      j["output"] = o->out;
      j["ops"] = graph.nodes.size();
      j["bytes"] = bytes.size();
      o->result.print(
          j, fmt::format("{}: {} ops, {} bytes\n", o->out, graph.nodes.size(), bytes.size()));
      return;
    }
    if (o->target.empty())
      throw UsageError("export --as: give --target (host or a Cortex-M target; see --help)");
    check_package_dir(o->out, o->force);
    emit::PackageOptions options;
    options.format = *emit::package_format_from_name(o->format);
    options.name = o->name.empty() ? default_package_name(o->model) : o->name;
    if (const std::string problem = emit::package_name_problem(options.name); !problem.empty())
      throw UsageError(fmt::format("{}: the package name '{}' taken from it {} (give --name)",
                                   o->model, options.name, problem));
    options.model_version = o->model_version;
    options.aot = o->aot;
    const std::vector<uint8_t> blob = blob_for_target(o->model, o->target);
    const emit::PackageContents p = emit::write_package(blob, options, o->out);
    nlohmann::ordered_json j;
    j["output"] = o->out;
    j["format"] = o->format;
    j["name"] = options.name;
    j["target"] = o->target;
    j["aot"] = o->aot;
    j["dsp_kernels"] = p.dsp_kernels;
    j["arena_bytes"] = p.arena_bytes;
    j["sources"] = p.sources;
    j["files"] = p.files.size();
    o->result.print(j,
                    fmt::format("{}: {} package '{}' for {}{} ({} sources, arena {} B; "
                                "header src/{}_model.h)\n",
                                o->out, o->format, options.name, o->target, o->aot ? ", AOT" : "",
                                p.sources.size(), p.arena_bytes, options.name));
  });
}

}  // namespace tinyforge::cli
