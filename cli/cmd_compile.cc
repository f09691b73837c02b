// tinyforge compile MODEL [--target T] [--emit blob|cpp] [-v] -o model.tfp|model.cc
#include <cstdio>

#include "cli/commands.h"
#include "emit/aot_cpp.h"
#include "host/compile.h"
#include "io/files.h"

namespace tinyforge::cli {

void add_compile(CLI::App& app) {
  auto* cmd = app.add_subcommand("compile", "Compile a .tflite/.onnx model to a plan blob (.tfp) for the device runtime");
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto target = std::make_shared<std::string>("host");
  cmd->add_option("MODEL", *model, "model file (.tflite or .onnx)")->required();
  cmd->add_option("-o,--output", *out, "plan blob to write")->required();
  cmd->add_option("-t,--target", *target,
                  "host (reference kernels) | cortex-m4 | cortex-m7 | cortex-m33 (DSP kernels) | cortex-m0plus")
      ->capture_default_str();
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("-v,--verbose", *verbose, "print every change the graph passes make");
  auto emit = std::make_shared<std::string>("blob");
  cmd->add_option("--emit", *emit, "blob: a plan blob (.tfp); cpp: C++ source calling the kernels directly")
      ->check(CLI::IsMember({"blob", "cpp"}))
      ->capture_default_str();
  cmd->callback([model, out, target, verbose, emit] {
    passes::PassLog log;
    if (*verbose) log = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    const host::Compiled c = host::compile_model_file(*model, host::plan_options_for_target(*target), log);
    if (*emit == "cpp") {
      const std::string source = emit::emit_aot_cpp(c.blob);
      io::write_file(*out, std::vector<uint8_t>(source.begin(), source.end()));
      std::printf("%s: %zu ops as direct kernel calls, arena %u bytes\n", out->c_str(), c.plan.ops.size(),
                  c.plan.arena_size);
      return;
    }
    io::write_file(*out, c.blob);
    std::printf("%s: %zu ops, %zu tensors, arena %u bytes, blob %zu bytes\n", out->c_str(),
                c.plan.ops.size(), c.plan.tensors.size(), c.plan.arena_size, c.blob.size());
  });
}

}  // namespace tinyforge::cli
