// tinyforge compile MODEL [--target T] -o model.tfp
#include <cstdio>

#include "cli/commands.h"
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
  cmd->callback([model, out, target] {
    const host::Compiled c = host::compile_model_file(*model, host::plan_options_for_target(*target));
    io::write_file(*out, c.blob);
    std::printf("%s: %zu ops, %zu tensors, arena %u bytes, blob %zu bytes\n", out->c_str(),
                c.plan.ops.size(), c.plan.tensors.size(), c.plan.arena_size, c.blob.size());
  });
}

}  // namespace tinyforge::cli
