// tinyforge firmware MODEL --target T [--board B] [--memory SPEC] [--optimize M] [--aot]
//                    [--kernels model|all|LIST] [--json] -o DIR
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/contract.h"
#include "emit/firmware.h"

namespace tinyforge::cli {

void add_firmware(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "firmware", "Build a bare-metal Cortex-M firmware ELF that runs one inference");
  struct Options {
    std::string model, target = "cortex-m4", board, out_dir, kernels = "model", memory;
    plan::Optimize optimize = plan::Optimize::balanced;
    uint32_t min_stack = 8192;
    bool aot = false;
    Result result;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (TFLite/ONNX) or plan blob")->required();
  cmd->add_option("-t,--target", o->target, "cortex-m4 | cortex-m7 | cortex-m0plus | cortex-m33")
      ->check(target_check(false))
      ->capture_default_str();
  cmd->add_option("-b,--board", o->board,
                  "board from targets/boards.json (its memory map); default: the generic map "
                  "(flash 0x0, RAM 0x20000000, boots on QEMU mps2-an386)");
  add_memory_option(cmd, o->memory);
  add_optimize_option(cmd, o->optimize);
  cmd->add_option("-o,--output-dir", o->out_dir, "folder for firmware.elf")->required();
  cmd->add_option("--min-stack", o->min_stack, "bytes of RAM the link keeps free for the stack")
      ->capture_default_str();
  cmd->add_flag("--aot", o->aot,
                "the plan as direct kernel calls (generated C++) instead of a blob and executor");
  cmd->add_option("--kernels", o->kernels,
                  "kernels compiled in: model (the model's ops) | all (every op of the target) | "
                  "OP,OP,... (op names, including the model's); recorded in DIR/device.json for "
                  "`package --device`")
      ->capture_default_str();
  o->result.add_flag(cmd);
  cmd->footer(
      "The ELF follows the measurement protocol of m4sim: tinyforge_input/_output in .noinit,\n"
      "tinyforge_bench_begin/_end around one inference, tinyforge_done, tinyforge_arena_used,\n"
      "model constants in section .tinyforge.model. Under QEMU -semihosting it prints one\n"
      "result line and exits. Needs arm-none-eabi-gcc (scripts/bootstrap).");
  cmd->callback([o] {
    check_output(o->out_dir, {o->model});
    emit::FirmwareOptions options;
    options.memory = resolved_memory(o->memory, o->board);
    const std::vector<uint8_t> blob =
        blob_for_target(o->model, o->target, options.memory, o->optimize);
    options.target = o->target;
    options.board = o->board;
    options.min_stack = o->min_stack;
    options.aot = o->aot;
    options.kernels = o->kernels;
    const emit::FirmwareImage image = emit::build_firmware(blob, options, o->out_dir, note);
    nlohmann::ordered_json j;
    j["elf"] = image.elf_path;
    j["target"] = image.target.name;
    j["memory_map"] = image.generic_map ? "generic" : image.board.name;
    j["input_bytes"] = image.input_bytes;
    j["output_bytes"] = image.output_bytes;
    j["arena_bytes"] = image.arena_bytes;
    j["kernels"] = nlohmann::ordered_json::array();
    for (OpCode op : image.kernels) j["kernels"].push_back(op_info(op).name);
    if (!image.profile_path.empty()) j["device_profile"] = image.profile_path;
    o->result.print(
        j, fmt::format("wrote {} ({}, {} map; input {} B, output {} B, arena {} B; {} kernels{})\n",
                       image.elf_path, image.target.name,
                       image.generic_map ? "generic" : image.board.name, image.input_bytes,
                       image.output_bytes, image.arena_bytes, image.kernels.size(),
                       image.profile_path.empty() ? "" : ", profile " + image.profile_path));
  });
}

}  // namespace tinyforge::cli
