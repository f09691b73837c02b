// The CLI contract of docs/cli.md, as one table: each row is a command line run through the
// real `tinyforge` binary, the exit code it must end with and a piece of the line it must
// print on stderr (and, for some, on stdout). Every subcommand has a good row and at least
// one bad-input row. Placeholders: @D scratch folder (fixtures made once per process),
// @M ../shared/models, @G ../shared/golden, @E examples/digits, @F a small C program's
// arm-none-eabi ELF (built when a row names it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "arm_elf.h"
#include "audio/wav.h"
#include "cli_run.h"
#include "emit/cross_build.h"
#include "io/files.h"
#include "onnx_seed_models.h"
#include "shared_data.h"
#include "unsupported_models.h"

namespace tinyforge {
namespace {

namespace fs = std::filesystem;

enum Needs : unsigned { kNone = 0, kShared = 1, kCross = 2 };

struct Row {
  const char* name;
  const char* args;
  int exit_code;
  const char* stderr_has;  // "" for good rows: then stderr must hold no error line
  const char* stdout_has = "";
  unsigned needs = kShared;
};

// clang-format off
const Row kRows[] = {
  // main
  {"no_subcommand", "", 2, "tinyforge: A subcommand is required (see tinyforge --help)", "", kNone},
  {"unknown_option", "inspect @M/hello_world_int8.tflite --bogus", 2,
   "The following argument was not expected: --bogus (see tinyforge inspect --help)"},
  {"version", "--version", 0, "", "tinyforge", kNone},
  // inspect
  {"inspect_model", "inspect @M/hello_world_int8.tflite", 0, "", "FullyConnected"},
  {"inspect_blob_shows_target", "inspect @D/m4.tfp", 0, "",
   "compiled for: cortex-m4 (armv7em kernels)"},
  {"inspect_blob_json_target", "inspect @D/host.tfp --json", 0, "", "\"target\": \"host\""},
  {"inspect_package", "inspect @D/good.tfu", 0, "", "\"security_counter\": 10"},
  {"inspect_folder_names_it", "inspect @D", 1, "tinyforge: @D: is a folder (give a file)", "",
   kNone},
  {"inspect_missing_file", "inspect @D/missing.tflite", 1,
   "tinyforge: @D/missing.tflite: cannot open", "", kNone},
  {"inspect_garbage", "inspect @D/garbage.onnx", 1,
   "tinyforge: @D/garbage.onnx: not a model tinyforge reads", "", kNone},
  {"onnx_by_content_not_name", "inspect @D/digits_onnx.bin", 0, "", "Conv2D", kNone},
  // inspect --target: will it run? Every unsupported op named, exit 1 (a model error)
  {"inspect_target_runs", "inspect @M/hello_world_int8.tflite --target cortex-m4", 0, "",
   "runs on cortex-m4: every op imports and has a kernel there"},
  {"inspect_target_names_every_unsupported_op", "inspect @D/five_missing.tflite --target host",
   1,
   "tinyforge: @D/five_missing.tflite: 5 ops are unsupported on target host (each is listed "
   "below; replace or remove them, see docs/ops.md for what runs where)\n"
   "tinyforge: @D/five_missing.tflite: op 0 (COS) v1 float32: no tinyforge op maps this "
   "builtin (docs/ops.md lists those that do)\n"
   "tinyforge: @D/five_missing.tflite: op 2 (SIN) v2 float32: ", "", kNone},
  {"inspect_target_last_unsupported_op", "inspect @D/five_missing.tflite --target cortex-m4", 1,
   "tinyforge: @D/five_missing.tflite: op 6 (ADD) v1 float32: tensor 8 'c': dtype INT16 (7) is "
   "not supported", "", kNone},
  {"inspect_target_json_lists_them", "inspect @D/five_missing.tflite --target host --json", 1,
   "op 5 (CUSTOM 'MyOp') v1 float32: custom op",
   "\"op\": \"CUSTOM 'MyOp'\"", kNone},
  {"inspect_target_lowering_refusals", "inspect @D/tiny_scale.tflite --target cortex-m0plus", 1,
   "tinyforge: @D/tiny_scale.tflite: op 1 (Softmax) int8: beta * input scale", "", kNone},
  {"inspect_target_onnx", "inspect @D/two_missing.onnx --target cortex-m33", 1,
   "tinyforge: @D/two_missing.onnx: 2 ops are unsupported on target cortex-m33 (each is listed "
   "below; replace or remove them, see docs/ops.md for what runs where)\n"
   "tinyforge: @D/two_missing.onnx: op 0 (Erf 'erf') v13 float32: unsupported: op; no "
   "tinyforge converter for this op type (docs/ops.md lists them)\n"
   "tinyforge: @D/two_missing.onnx: op 2 (Bar 'bar') v13 float32: unsupported: op; ", "",
   kNone},
  {"inspect_bad_target_is_usage", "inspect @D/five_missing.tflite --target cortex-m5", 2,
   "unknown target 'cortex-m5'", "", kNone},
  {"content_name_mismatch_warns", "inspect @D/tflite_named.onnx", 0,
   "tinyforge: warning: @D/tflite_named.onnx: the name says an ONNX model but the content is "
   "a TFLite model"},
  // compile
  {"compile_ok", "compile @M/hello_world_int8.tflite -o @D/c.tfp --json", 0, "", "\"blob_bytes\""},
  {"compile_bad_target_is_usage",
   "compile @M/hello_world_int8.tflite --target cortex-m5 -o @D/c.tfp", 2,
   "unknown target 'cortex-m5' (one of: host, "},
  {"compile_output_is_input", "compile @D/copy.tflite -o @D/copy.tflite", 2,
   "tinyforge: @D/copy.tflite: is also an input of this command (give -o another file)"},
  {"compile_output_links_to_input", "compile @D/copy.tflite -o @D/link.tflite", 2,
   "tinyforge: @D/link.tflite: is also an input of this command"},
  {"compile_a_blob", "compile @D/host.tfp -o @D/c2.tfp", 1,
   "tinyforge: @D/host.tfp: a compiled plan blob, not a model (give the .tflite or .onnx model)",
   "", kShared},
  {"compile_names_every_unsupported_op", "compile @D/five_missing.tflite -o @D/f.tfp", 1,
   "tinyforge: @D/five_missing.tflite: 5 ops are unsupported on target host", "", kNone},
  {"compile_json_lists_unsupported_ops",
   "compile @D/tiny_scale.tflite --target cortex-m7 -o @D/f.tfp --json", 1,
   "2 ops are unsupported on target cortex-m7", "\"stage\": \"lowering\"", kNone},
  {"compile_shared_arena", "compile @M/hello_world_int8.tflite @M/ad01_int8.tflite "
   "--shared-arena -o @D/shared --json", 0, "", "\"saving_bytes\""},
  {"compile_several_models_need_shared_arena",
   "compile @M/hello_world_int8.tflite @M/ad01_int8.tflite -o @D/two", 2,
   "several models: add --shared-arena (-o then names a folder)"},
  {"compile_concurrent_names_a_model",
   "compile @M/hello_world_int8.tflite @M/ad01_int8.tflite --shared-arena "
   "--concurrent ad01_int8,kws -o @D/shared2", 2,
   "--concurrent ad01_int8,kws: 'kws' is not one of the models (hello_world_int8, ad01_int8)"},
  {"compile_shared_arena_same_name", "compile @M/hello_world_int8.tflite @D/hello_world_int8.tflite "
   "--shared-arena -o @D/shared3", 2, "would both be hello_world_int8.tfp"},
  {"compile_quantized_onnx_cnn", "compile @D/cnn_int8.tflite -o @D/cnn.tfp", 0, "", "ops", kNone},
  {"run_quantized_onnx_cnn",
   "run @D/cnn_int8.tflite --input @D/cnn_cal.bin --output @D/y.bin --output @D/gap.bin", 0, "",
   "ran 8 case(s)", kNone},
  // run
  {"run_ok",
   "run @M/hello_world_int8.tflite --input @G/hello_world_int8/in0.bin --output @D/o.bin", 0, "",
   "case(s)"},
  {"run_cases_zero",
   "run @M/hello_world_float.tflite --input @D/cal.bin --output @D/o.bin --cases 0", 2,
   "--cases: '0' is not a whole number >= 1 (see tinyforge run --help)"},
  {"run_cases_too_many",
   "run @M/hello_world_float.tflite --input @D/cal.bin --output @D/o.bin --cases 1000", 2,
   "tinyforge: @D/cal.bin: holds 64 case(s), --cases 1000 asked"},
  {"run_nan_input", "run @M/hello_world_float.tflite --input @D/nan.bin --output @D/o.bin", 1,
   "tinyforge: @D/nan.bin: nan at case 5, element 0 (inputs must be finite)"},
  {"run_wrong_size", "run @M/hello_world_float.tflite --input @D/odd.bin --output @D/o.bin", 1,
   "tinyforge: @D/odd.bin: 6 bytes is not a whole number of 4-byte float32 tensors"},
  {"run_output_is_input", "run @M/hello_world_float.tflite --input @D/cal.bin --output @D/cal.bin",
   2,
   "tinyforge: @D/cal.bin: is also an input of this command"},
  // quantize
  {"quantize_ok", "quantize @M/hello_world_float.tflite -c @D/cal.bin -o @D/q.tflite --json", 0, "",
   "\"calibration_cases\": 64"},
  {"quantize_onnx_cnn", "quantize @D/cnn.onnx -c @D/cnn_cal.bin -o @D/cnn_q.tflite", 0, "", "int8",
   kNone},
  {"quantize_nan", "quantize @M/hello_world_float.tflite -c @D/nan.bin -o @D/q.tflite", 1,
   "tinyforge: @D/nan.bin: nan at case 5, element 0 (calibration data must be finite float32)"},
  {"quantize_inf", "quantize @M/hello_world_float.tflite -c @D/inf.bin -o @D/q.tflite", 1,
   "tinyforge: @D/inf.bin: inf at case 9, element 0"},
  {"quantize_all_zeros", "quantize @M/hello_world_float.tflite -c @D/zeros.bin -o @D/q.tflite", 1,
   "tinyforge: @D/zeros.bin: all 64 values are 0, a degenerate range (give real input samples)"},
  {"quantize_wrong_dtype", "quantize @M/hello_world_float.tflite -c @D/uint8.bin -o @D/q.tflite", 1,
   "does not look like float32 data"},
  {"quantize_wrong_size", "quantize @M/hello_world_float.tflite -c @D/odd.bin -o @D/q.tflite", 1,
   "tinyforge: @D/odd.bin: 6 bytes is not a whole number of 'serving_default_dense_input:0' "
   "tensors of 4 bytes (float32 [1,1])"},
  {"quantize_percentile_needs_method",
   "quantize @M/hello_world_float.tflite -c @D/cal.bin --percentile 99 -o @D/q.tflite", 2,
   "tinyforge: quantize: --percentile applies only to --method percentile"},
  {"quantize_output_is_input",
   "quantize @D/copy_float.tflite -c @D/cal.bin -o @D/copy_float.tflite", 2,
   "is also an input of this command"},
  // prune
  {"prune_ok", "prune @M/hello_world_float.tflite -s 0.5 -o @D/p.tflite --json", 0, "",
   "\"weights_zeroed\""},
  {"prune_bad_sparsity", "prune @M/hello_world_float.tflite -s 1 -o @D/p.tflite", 2,
   "--sparsity: '1' is not a number with 0 <= S < 1"},
  {"prune_nan_calibration",
   "prune @M/hello_world_float.tflite -s 0.5 -c @D/nan.bin -o @D/p.tflite", 1,
   "tinyforge: @D/nan.bin: nan at case 5"},
  // export
  {"export_onnx", "export @E/digits.onnx --tflite -o @D/d.tflite", 0, "", "bytes", kNone},
  {"export_garbage", "export @D/garbage.onnx --tflite -o @D/d.tflite", 1,
   "tinyforge: @D/garbage.onnx: not a model", "", kNone},
  {"export_as_cmake", "export @E/digits.onnx --as cmake --target host -o @D/pkg --force", 0, "",
   "cmake package 'digits' for host", kNone},
  {"export_as_json", "export @E/digits.onnx --as zephyr --target cortex-m4 --name dg --json "
   "-o @D/pkg_zephyr --force", 0, "", "\"format\": \"zephyr\"", kNone},
  {"export_as_folder_not_empty", "export @E/digits.onnx --as cmake --target host -o @D", 2,
   "tinyforge: @D: folder is not empty (give a new folder, or --force to write into it)", "",
   kNone},
  {"export_as_bad_name", "export @E/digits.onnx --as cmake --target host --name 2x -o @D/p2", 2,
   "--name '2x' must start with a letter", "", kNone},
  {"export_as_keyword_name",
   "export @E/digits.onnx --as arduino --target host --name int -o @D/p2", 2,
   "--name 'int' is a C or C++ keyword", "", kNone},
  {"export_as_needs_target", "export @E/digits.onnx --as cmake -o @D/p2", 2,
   "tinyforge: export --as: give --target", "", kNone},
  {"export_as_unknown_format", "export @E/digits.onnx --as bazel --target host -o @D/p2", 2,
   "bazel", "", kNone},
  {"export_needs_a_format", "export @E/digits.onnx -o @D/p2", 2,
   "tinyforge: export: give --tflite or --as FORMAT", "", kNone},
  {"export_as_bad_version",
   "export @E/digits.onnx --as cmake --target host --model-version 1.2 -o @D/p2", 2,
   "--model-version '1.2' is not MAJOR.MINOR.PATCH", "", kNone},
  // keygen
  {"keygen_ok", "keygen -o @D/k2 --json", 0, "", "\"public_key\"", kNone},
  {"keygen_exists", "keygen -o @D/key", 1, "tinyforge: @D/key: ", "", kNone},
  // package
  {"package_decimal_counter",
   "package @D/m4.tfp --key @D/key --version 1.0.0 --counter 010 -o @D/u.tfu", 0, "",
   "counter 10 target cortex-m4"},
  {"package_bad_target",
   "package @D/m4.tfp --key @D/key --version 1.0.0 --counter 1 --target cortex-m5 -o @D/u.tfu", 2,
   "unknown target 'cortex-m5'"},
  {"package_hex_counter",
   "package @D/m4.tfp --key @D/key --version 1.0.0 --counter 0x10 -o @D/u.tfu", 2,
   "'0x10' is not a decimal number 0..4294967295"},
  {"package_target_mismatch",
   "package @D/m4.tfp --key @D/key --version 1.0.0 --counter 1 --target cortex-m0plus -o @D/u.tfu",
   1,
   "tinyforge: @D/m4.tfp: compiled for cortex-m4, packaged for cortex-m0plus (recompile with "
   "`tinyforge compile --target cortex-m0plus`)"},
  {"package_host_blob_warns",
   "package @D/host.tfp --key @D/key --version 1.0.0 --counter 1 -o @D/u.tfu", 0,
   "tinyforge: warning: @D/host.tfp: compiled for host (reference kernels), used for cortex-m4",
   "target cortex-m4"},
  {"package_a_model",
   "package @M/hello_world_int8.tflite --key @D/key --version 1.0.0 --counter 1 -o @D/u.tfu", 1,
   "not a valid plan blob (bad_magic; make one with `tinyforge compile`)"},
  // verify
  {"verify_ok", "verify @D/good.tfu --pub @D/key.pub --json", 0, "", "\"ok\": true"},
  {"verify_tampered", "verify @D/tampered.tfu --pub @D/key.pub", 1,
   "tinyforge: @D/tampered.tfu: rejected: "},
  // firmware (arm-none-eabi-gcc)
  {"firmware_ok", "firmware @D/m4.tfp --target cortex-m4 -o @D/fw", 0, "", "firmware.elf",
   kShared | kCross},
  {"firmware_blob_for_host_warns", "firmware @D/host.tfp --target cortex-m4 -o @D/fw_host", 0,
   "tinyforge: warning: @D/host.tfp: compiled for host (reference kernels), used for cortex-m4",
   "", kShared | kCross},
  {"firmware_bad_target", "firmware @D/m4.tfp --target cortex-m5 -o @D/fw", 2,
   "unknown target 'cortex-m5'"},
  {"firmware_kernels_unknown_op", "firmware @D/m4.tfp --kernels FullyConnectedDsp,Conv9D -o @D/fwk",
   1, "--kernels: 'Conv9D' is not an op"},
  {"firmware_kernels_must_cover_the_model", "firmware @D/m4.tfp --kernels Conv2D -o @D/fwk", 1,
   "--kernels: the image's own model needs FullyConnectedDsp"},
  {"firmware_kernels_not_with_aot", "firmware @D/m4.tfp --aot --kernels all -o @D/fwk", 1,
   "an --aot image calls its own model's kernels"},
  {"firmware_link_overflow_one_line",
   "firmware @M/hello_world_int8.tflite --board STM32F446RE --min-stack 200000 -o @D/fw_big", 1,
   "linking failed: tinyforge: RAM too small: less than the minimum stack is left above the "
   "static data (full log: @D/fw_big/obj/build.log)", "", kShared | kCross},
  // bench (arm-none-eabi-gcc + the emulator)
  {"bench_float_cortex_m4", "bench @M/hello_world_float.tflite --target cortex-m4", 0, "",
   "matches the host runtime", kShared | kCross},
  {"bench_all_kernels", "bench @M/hello_world_int8.tflite --target cortex-m4 --kernels all", 0,
   "", "matches the host runtime", kShared | kCross},
  {"bench_float_cortex_m7", "bench @M/hello_world_float.tflite --target cortex-m7", 0, "",
   "matches the host runtime", kShared | kCross},
  {"bench_float_cortex_m33", "bench @M/hello_world_float.tflite --target cortex-m33 --json", 0, "",
   "\"output_matches_host\": true", kShared | kCross},
  // kws float: softmax (expf) in float on every FPU target
  {"bench_kws_float_cortex_m4", "bench @M/kws_ref_model_float32.tflite --target cortex-m4", 0, "",
   "matches the host runtime", kShared | kCross},
  {"bench_kws_float_cortex_m7", "bench @M/kws_ref_model_float32.tflite --target cortex-m7", 0, "",
   "matches the host runtime", kShared | kCross},
  {"bench_kws_float_cortex_m33", "bench @M/kws_ref_model_float32.tflite --target cortex-m33", 0,
   "", "matches the host runtime", kShared | kCross},
  {"bench_over_budget", "bench @M/hello_world_int8.tflite --budget ram=256", 3,
   "tinyforge: over budget: ram", "", kShared | kCross},
  {"bench_bad_budget_is_usage", "bench @M/hello_world_int8.tflite --budget ram=lots", 2,
   "--budget"},
  {"bench_memory_regions", "bench @M/kws_ref_model.tflite --memory sram=4K,psram=8M:slow", 0, "",
   "region psram", kShared | kCross},
  {"bench_bad_memory_is_usage", "bench @M/hello_world_int8.tflite --memory sram=4X", 2,
   "--memory: region 'sram': size '4X'"},
  {"compile_memory_regions", "compile @M/kws_ref_model.tflite --memory sram=4K,psram=8M:slow -o "
   "@D/regions.tfp", 0, "", "B, psram "},
  {"compile_memory_too_small", "compile @M/kws_ref_model.tflite --memory sram=1K -o @D/small.tfp",
   1, "memory region 'sram' (1024 bytes) is too small"},
  {"compile_memory_with_shared_arena_is_usage",
   "compile @M/hello_world_int8.tflite @M/ad01_int8.tflite --shared-arena --memory sram=64K "
   "-o @D/shared4", 2, "--memory with --shared-arena: the shared arena is one buffer"},
  // --optimize: ResNet-8's first residual block (conv, conv, add) becomes one strip-wise op
  {"compile_optimize_speed", "compile @M/pretrainedResnet_quant.tflite --target cortex-m4 "
   "--optimize speed -o @D/resnet_speed.tfp", 0, "", "16 ops", kShared},
  {"compile_optimize_ram", "compile @M/pretrainedResnet_quant.tflite --target cortex-m4 "
   "--optimize ram -o @D/resnet_ram.tfp", 0, "", "14 ops", kShared},
  {"compile_bad_optimize_is_usage",
   "compile @M/hello_world_int8.tflite --optimize small -o @D/small_opt.tfp", 2, "--optimize"},
  {"bench_optimize_ram", "bench @M/hello_world_int8.tflite --optimize ram", 0, "",
   "matches the host runtime", kShared | kCross},
  {"compile_memory_no_writable_is_usage", "compile @M/kws_ref_model.tflite --memory flash=1M:xip "
   "-o @D/x.tfp", 2, "no writable region"},

  {"bench_bad_target_is_usage", "bench @M/hello_world_int8.tflite --target cortex-m5", 2,
   "unknown target 'cortex-m5'"},
  {"bench_instruction_cap_names_option",
   "bench @M/hello_world_int8.tflite --max-instructions 1000", 1,
   "instructions (raise the cap with --max-instructions)", "", kShared | kCross},
  {"bench_blob_for_host_warns", "bench @D/host.tfp --target cortex-m4", 0,
   "tinyforge: warning: @D/host.tfp: compiled for host (reference kernels), used for cortex-m4",
   "", kShared | kCross},
  {"bench_nan_input", "bench @M/hello_world_float.tflite --input @D/nan.bin --case 0", 1,
   "tinyforge: @D/nan.bin: nan at case 5, element 0", "", kShared},
  {"bench_case_out_of_range", "bench @M/hello_world_float.tflite --input @D/cal.bin --case 64", 2,
   "tinyforge: @D/cal.bin: holds 64 case(s), --case 64 asked", "", kShared},
  // report (arm-none-eabi-gcc + the emulator)
  {"report_ok", "report @D/cnn_int8.tflite --target cortex-m4 -o @D/r.html --json", 0, "",
   "\"cycles_estimate\"", kCross},
  {"report_over_budget", "report @D/cnn_int8.tflite --budget ram=1K -o @D/r.html", 3,
   "tinyforge: over budget: ram", "", kCross},
  {"report_garbage", "report @D/garbage.onnx -o @D/r.html", 1,
   "tinyforge: @D/garbage.onnx: not a model", "", kNone},
  {"report_output_is_input", "report @D/cnn_int8.tflite -o @D/cnn_int8.tflite", 2,
   "tinyforge: @D/cnn_int8.tflite: is also an input of this command", "", kNone},
  // compare
  {"compare_ok", "compare @D/cnn_int8.tflite --input @D/cnn_cal.bin --case 2", 0, "",
   "every op's output matches", kCross},
  {"compare_one_lsb_names_layer",
   "compare @D/cnn_int8.tflite --input @D/cnn_cal.bin --test-flip-lsb 1", 4,
   "tinyforge: @D/cnn_int8.tflite: op 1 ", "first diverging op: 1 ", kCross},
  {"compare_needs_input", "compare @D/cnn_int8.tflite", 2,
   "tinyforge: --input is required (see tinyforge compare --help)", "", kNone},
  // mapview
  {"mapview_ok", "mapview @F -o @D/m.html --json", 0, "", "\"total_bytes\"", kCross},
  {"mapview_not_elf", "mapview @D/garbage.onnx -o @D/m.html", 1,
   "tinyforge: @D/garbage.onnx: not a valid ARM ELF32 file", "", kNone},
  {"mapview_bad_map", "mapview @F --map @D/garbage.onnx -o @D/m.html", 1,
   "tinyforge: @D/garbage.onnx: not a GNU ld map file", "", kCross},
  // listen, compile --frontend, inspect of a blob with a front-end
  {"listen_ok", "listen @M/micro_speech_quantized.tflite --wav @D/quiet.wav --json", 0, "",
   "\"detections\": []"},
  {"listen_blob_ok", "listen @D/ms.tfp --wav @D/quiet.wav", 0, "", "no keyword detected"},
  {"listen_not_wav", "listen @M/micro_speech_quantized.tflite --wav @D/garbage.onnx", 1,
   "tinyforge: @D/garbage.onnx: not a WAV file"},
  {"listen_float_model", "listen @M/hello_world_float.tflite --wav @D/quiet.wav", 1,
   "the model's input is float32; the audio front-end feeds int8 inputs"},
  {"listen_needs_wav", "listen @M/micro_speech_quantized.tflite", 2,
   "tinyforge: --wav is required (see tinyforge listen --help)"},
  {"listen_frontend_with_blob", "listen @D/ms.tfp --wav @D/quiet.wav --frontend mfcc=10", 2,
   "a plan blob carries its own front-end"},
  {"features_float_ok",
   "features @D/quiet.wav @D/quiet.wav --frontend frames=49 -o @D/f.bin --json",
   0, "", "\"bytes\": 15680", kNone},
  {"features_int8_ok", "features @D/quiet.wav --model @D/ms.tfp -o @D/f8.bin", 0, "",
   "49 frames x 40 features, int8"},
  {"features_needs_frames", "features @D/quiet.wav --frontend default -o @D/f.bin", 2,
   "tinyforge: --frontend without --model needs frames=N", "", kNone},
  {"features_needs_a_source", "features @D/quiet.wav -o @D/f.bin", 2,
   "tinyforge: give --model MODEL (int8 features) or --frontend SPEC", "", kNone},
  {"features_not_wav", "features @D/garbage.onnx --frontend frames=49 -o @D/f.bin", 1,
   "tinyforge: @D/garbage.onnx: not a WAV file", "", kNone},
  {"features_overwrites_wav", "features @D/quiet.wav --frontend frames=49 -o @D/quiet.wav", 2,
   "tinyforge: @D/quiet.wav: is also an input of this command", "", kNone},
  {"features_wrong_rate", "features @D/quiet8k.wav --frontend frames=49 -o @D/f.bin", 1,
   "tinyforge: @D/quiet8k.wav: 8000 Hz; the front-end expects 16000 Hz", "", kNone},
  {"compile_frontend_bad_spec",
   "compile @M/micro_speech_quantized.tflite --frontend channels=0 -o @D/x.tfp", 1,
   "--frontend channels=0: 1 to 64"},
  {"inspect_blob_frontend", "inspect @D/ms.tfp", 0, "",
   "audio front-end: 16000 Hz, window 480 / hop 320 samples, 512-point FFT, 40 channels"},
  // fleet
  {"fleet_baseline", "fleet baseline @D/good.tfu --input @D/odd.bin -o @D/base.tft", 0, ""},
  {"fleet_baseline_not_package", "fleet baseline @D/m4.tfp --input @D/odd.bin -o @D/b.tft", 1,
   "tinyforge: @D/m4.tfp: not a readable OTA package"},
  {"fleet_serve_no_credentials", "fleet serve --credentials @D/missing", 1,
   "tinyforge: @D/missing: cannot read the credentials file", "", kNone},
  {"fleet_rollout_bad_stages", "fleet rollout @D/good.tfu --credentials @D/missing --percent 25,5,100",
   2, "tinyforge: --percent: stages must increase within 1..100", "", kNone},
  {"fleet_rollout_bad_rule", "fleet rollout @D/good.tfu --credentials @D/missing --halt-on 'cpu>1'",
   2, "tinyforge: --halt-on: `cpu>1` is not error_rate>X or drift>X", "", kNone},
  {"fleet_simulate_bad_broker",
   "fleet simulate --credentials @D/missing --package @D/good.tfu --pub @D/key.pub --broker x:1",
   1, "tinyforge: x:1: not a broker URL", "", kNone},
  {"fleet_needs_subcommand", "fleet", 2, "A subcommand is required", "", kNone},
};
// clang-format on

const char* const kCommands[] = {"inspect",  "compile", "run",    "keygen",   "package", "verify",
                                 "firmware", "bench",   "export", "quantize", "prune",   "report",
                                 "compare",  "mapview", "listen", "fleet",    "features"};

std::vector<uint8_t> floats(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<float> uniform(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.5f, 1.5f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

void PrintTo(const Row& row, std::ostream* os) { *os << "tinyforge " << row.args; }

class CliContract : public ::testing::TestWithParam<Row> {
 public:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("tinyforge-cli-contract-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    const auto put = [](const char* name, const std::vector<uint8_t>& b) {
      io::write_file((dir_ / name).string(), b);
    };
    // hello_world_float: one float32 input of one element; 64 cases.
    std::vector<float> cal = uniform(64, 1);
    put("cal.bin", floats(cal));
    std::vector<float> bad = cal;
    bad[5] = std::nanf("");
    put("nan.bin", floats(bad));
    bad = cal;
    bad[9] = INFINITY;
    put("inf.bin", floats(bad));
    put("zeros.bin", std::vector<uint8_t>(64 * 4, 0));
    std::vector<uint8_t> image(64 * 4);  // uint8 pixels handed over as float32
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i * 37 % 251);
    put("uint8.bin", image);
    put("odd.bin", std::vector<uint8_t>(6, 1));
    const std::string garbage = "not a model";
    put("garbage.onnx", std::vector<uint8_t>(garbage.begin(), garbage.end()));
    put("digits_onnx.bin",
        io::read_file(std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits/digits.onnx"));
    // An ONNX CNN with three input channels; its int8 version must compile.
    for (const auto& [name, bytes] : onnx_test::onnx_seed_models())
      if (name == "conv_stack") put("cnn.onnx", std::vector<uint8_t>(bytes.begin(), bytes.end()));
    put("cnn_cal.bin", floats(uniform(8 * 3 * 10 * 10, 2)));
    put("five_missing.tflite", testing::build_tflite(testing::five_missing_ops_model()));
    put("tiny_scale.tflite", testing::build_tflite(testing::unlowerable_softmax_model()));
    {  // ONNX: Erf and Bar are not supported; the Relu after Erf cannot be checked
      onnx_test::ModelBuilder mb(13);
      mb.input("x", {1, 4});
      mb.node("Erf", {"x"}, {"a"}, "erf");
      mb.node("Relu", {"a"}, {"b"}, "relu");
      mb.node("Bar", {"x"}, {"c"}, "bar");
      mb.output("b");
      mb.output("c");
      const std::string onnx = mb.bytes();
      put("two_missing.onnx", std::vector<uint8_t>(onnx.begin(), onnx.end()));
    }
    audio::Wav quiet;  // one second of digital silence at 16 kHz
    quiet.sample_rate = 16000;
    quiet.samples.assign(16000, 0);
    put("quiet.wav", audio::make_wav(quiet));
    quiet.sample_rate = 8000;
    put("quiet8k.wav", audio::make_wav(quiet));
    run("quantize @D/cnn.onnx -c @D/cnn_cal.bin -o @D/cnn_int8.tflite");
    run("keygen -o @D/key");
    const fs::path models = testing::shared_dir() / "models";
    if (!fs::exists(models / "hello_world_int8.tflite")) return;
    fs::copy_file(models / "hello_world_int8.tflite", dir_ / "copy.tflite");
    fs::create_symlink(dir_ / "copy.tflite", dir_ / "link.tflite");
    fs::copy_file(models / "hello_world_int8.tflite", dir_ / "tflite_named.onnx");
    fs::copy_file(models / "hello_world_float.tflite", dir_ / "copy_float.tflite");
    fs::copy_file(models / "hello_world_int8.tflite", dir_ / "hello_world_int8.tflite");
    run("compile @M/hello_world_int8.tflite -o @D/host.tfp");
    run("compile @M/hello_world_int8.tflite --target cortex-m4 -o @D/m4.tfp");
    run("compile @M/micro_speech_quantized.tflite --frontend default -o @D/ms.tfp");
    run("package @D/m4.tfp --key @D/key --version 1.2.3 --counter 10 -o @D/good.tfu");
    std::vector<uint8_t> pkg = io::read_file((dir_ / "good.tfu").string());
    pkg.back() ^= 0x5A;  // payload byte: the hash no longer matches
    put("tampered.tfu", pkg);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string expand(std::string s) {
    const std::pair<const char*, std::string> subst[] = {
        {"@D", dir_.string()},
        {"@M", (testing::shared_dir() / "models").string()},
        {"@G", (testing::shared_dir() / "golden").string()},
        {"@E", std::string(TINYFORGE_SOURCE_DIR) + "/examples/digits"},
        {"@F", (dir_ / "small.elf").string()}};
    for (const auto& [key, value] : subst)
      for (size_t at = s.find(key); at != std::string::npos; at = s.find(key, at + value.size()))
        s.replace(at, 2, value);
    return s;
  }
  static testing::CliRun run(const std::string& args) {
    return testing::run_cli(expand(args), dir_);
  }

  static fs::path dir_;
};
fs::path CliContract::dir_;

TEST_P(CliContract, ExitCodeAndMessage) {
  const Row& row = GetParam();
  if (row.needs & kShared) TINYFORGE_REQUIRE_SHARED("models/hello_world_int8.tflite");
  if ((row.needs & kCross) && !emit::cross_toolchain_available())
    GTEST_SKIP() << "arm-none-eabi-gcc not installed (scripts/bootstrap)";
  if (std::string(row.args).find("@F") != std::string::npos && !fs::exists(dir_ / "small.elf"))
    ASSERT_TRUE(testing::build_arm_elf(dir_, "small", testing::small_c_program(64)));
  const testing::CliRun r = run(row.args);
  EXPECT_EQ(r.exit_code, row.exit_code) << "tinyforge " << row.args << "\nstderr: " << r.err;
  const std::string want_err = expand(row.stderr_has);
  if (!want_err.empty()) EXPECT_NE(r.err.find(want_err), std::string::npos) << "stderr: " << r.err;
  EXPECT_NE(r.out.find(expand(row.stdout_has)), std::string::npos) << "stdout: " << r.out;
  // --json: stdout is one JSON object.
  if (row.exit_code == 0 && std::string(row.args).find("--json") != std::string::npos) {
    const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(j.is_object()) << r.out;
  }
  // Errors: one line, `tinyforge: ...`, last on stderr; no tool output dumped.
  if (row.exit_code != 0) {
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.back(), '\n');
    const size_t start = r.err.rfind('\n', r.err.size() - 2) + 1;
    const std::string last = r.err.substr(start);
    EXPECT_EQ(last.rfind("tinyforge: ", 0), 0u) << last;
    EXPECT_LT(last.size(), 400u) << last;
  } else {
    EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, CliContract, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

// Every subcommand documents itself: --help exits 0 and lists its options.
TEST(CliContractHelp, EverySubcommandHasHelp) {
  const fs::path dir =
      fs::temp_directory_path() / ("tinyforge-cli-help-" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const char* command : kCommands) {
    const testing::CliRun r = testing::run_cli(std::string(command) + " --help", dir);
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << command << ": " << r.out;
  }
  fs::remove_all(dir);
}

// Every subcommand appears in the table with a good row and a bad one.
TEST(CliContractCoverage, EverySubcommandHasGoodAndBadRows) {
  for (const char* command : kCommands) {
    bool good = false, bad = false;
    for (const Row& row : kRows) {
      const std::string args = row.args;
      if (args.rfind(std::string(command) + " ", 0) != 0) continue;
      (row.exit_code == 0 ? good : bad) = true;
    }
    EXPECT_TRUE(good && bad) << command << ": good " << good << ", bad " << bad;
  }
}

}  // namespace
}  // namespace tinyforge
