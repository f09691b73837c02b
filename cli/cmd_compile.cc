// tinyforge compile MODEL [--target T] [--memory SPEC] [--emit blob|cpp] [-v] [--json]
//                   -o model.tfp|model.cc
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/contract.h"
#include "emit/aot_cpp.h"
#include "host/compile.h"
#include "io/files.h"

namespace tinyforge::cli {

void add_compile(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compile", "Compile a TFLite/ONNX model to a plan blob (.tfp) for the device runtime");
  struct Options {
    std::string model, out, target = "host", emit = "blob", memory;
    bool verbose = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model file (TFLite or ONNX)")->required();
  cmd->add_option("-o,--output", o->out, "plan blob to write")->required();
  cmd->add_option("-t,--target", o->target,
                  "host (reference kernels) | cortex-m4 | cortex-m7 | cortex-m33 (DSP kernels) | "
                  "cortex-m0plus; recorded in the blob")
      ->check(target_check(true))
      ->capture_default_str();
  add_memory_option(cmd, o->memory);
  cmd->add_flag("-v,--verbose", o->verbose, "print every change the graph passes make");
  cmd->add_option("--emit", o->emit,
                  "blob: a plan blob (.tfp); cpp: C++ source calling the kernels directly")
      ->check(CLI::IsMember({"blob", "cpp"}))
      ->capture_default_str();
  o->result.add_flag(cmd);
  cmd->callback([o] {
    check_output(o->out, {o->model});
    read_input(o->model);  // warns when the name and the content disagree
    passes::PassLog log;
    if (o->verbose) log = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    host::Compiled c;
    try {
      plan::PlanOptions options = host::plan_options_for_target(o->target);
      options.memory = memory_option(o->memory);
      c = host::compile_model_file(o->model, options, log);
    } catch (const UnsupportedOps& e) {  // --json: the list as data, then the error lines
      if (o->result.json) {
        nlohmann::ordered_json j;
        j["model"] = o->model;
        j["target"] = o->target;
        j["unsupported"] = refusals_json(e);
        std::printf("%s\n", j.dump(1).c_str());
      }
      throw;
    }
    nlohmann::ordered_json j;
    j["output"] = o->out;
    j["target"] = o->target;
    j["ops"] = c.plan.ops.size();
    j["tensors"] = c.plan.tensors.size();
    j["arena_bytes"] = c.plan.arena_size;
    std::string regions_text;
    if (!c.plan.regions.empty()) {
      j["regions"] = nlohmann::ordered_json::array();
      for (const plan::Plan::Region& r : c.plan.regions) {
        j["regions"].push_back({{"name", r.name}, {"bytes", r.size}});
        regions_text +=
            fmt::format("{}{} {} B", regions_text.empty() ? " (" : ", ", r.name, r.size);
      }
      regions_text += ")";
    }
    if (o->emit == "cpp") {
      const std::string source = emit::emit_aot_cpp(c.blob);
      io::write_file(o->out, std::vector<uint8_t>(source.begin(), source.end()));
      j["source_bytes"] = source.size();
      o->result.print(j, fmt::format("{}: {} ops as direct kernel calls, arena {} bytes\n", o->out,
                                     c.plan.ops.size(), c.plan.arena_size));
      return;
    }
    io::write_file(o->out, c.blob);
    j["blob_bytes"] = c.blob.size();
    o->result.print(j, fmt::format("{}: {} ops, {} tensors, arena {} bytes{}, blob {} bytes "
                                   "(target {})\n",
                                   o->out, c.plan.ops.size(), c.plan.tensors.size(),
                                   c.plan.arena_size, regions_text, c.blob.size(), o->target));
  });
}

}  // namespace tinyforge::cli
