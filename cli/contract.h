// The contract every subcommand keeps (docs/cli.md): exit codes, one-line errors of the form
// `tinyforge: FILE: what is wrong (what to do)`, outputs that never overwrite inputs, files
// recognised by content, `--json` results and progress on stderr that `--quiet` silences.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "import/load_model.h"
#include "ir/unsupported.h"
#include "plan/conv_chain.h"
#include "plan/memory_spec.h"
#include "tinyforge/dtype.h"

namespace tinyforge::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitInput = 1,   // a file or model is missing, malformed or unsupported (also: ops
                    // without a kernel for the target, every one named)
  kExitUsage = 2,   // the command line itself is wrong
  kExitBudget = 3,  // bench: a figure over --budget
  kExitVerify = 4,  // bench: the device's output differs from the host's beyond tolerance
};

// Thrown by a command for a wrong command line found after parsing (exit 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown when the device's output differs from the host runtime's (exit 4).
struct VerifyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Options every subcommand shares; set by main.cc before the command runs.
struct Global {
  bool quiet = false;  // no progress, no notes (warnings and errors still print)
};
Global& global();

// `tinyforge: warning: TEXT` on stderr.
void warn(const std::string& text);
// Progress or a note on stderr unless --quiet.
void note(const std::string& text);

// Refuses (UsageError) an output path that names one of the inputs, also through links.
void check_output(const std::string& output, const std::vector<std::string>& inputs);

// Reads a file and tells what it is by content; warns when the extension says otherwise.
struct InputFile {
  std::vector<uint8_t> bytes;
  FileKind kind = FileKind::unknown;
};
InputFile read_input(const std::string& path);

// The target a plan blob was compiled for (PlanTarget; nullopt for a version 2.0 blob).
struct BlobTarget {
  std::string target;
  bool dsp_kernels = false;
};
std::optional<BlobTarget> blob_target(const std::vector<uint8_t>& blob);

// Warns when the blob at `path` was compiled for a target other than `target`.
void check_blob_target(const std::string& path, const std::vector<uint8_t>& blob,
                       const std::string& target);

// The plan blob to run on `target`: the file itself when it is a blob (warning when it was
// compiled for another target), else the model compiled for `target`.
// `memory` (--memory, resolved): compile for those regions; ignored for a blob file.
// `optimize` (--optimize): which RAM-saving transformations; ignored for a blob file.
std::vector<uint8_t> blob_for_target(const std::string& path, const std::string& target,
                                     const std::vector<plan::MemoryRegionSpec>& memory = {},
                                     plan::Optimize optimize = plan::Optimize::balanced);

// Adds --optimize ram|speed|balanced (plan/conv_chain.h) to `cmd`.
void add_optimize_option(CLI::App* cmd, plan::Optimize& optimize);

// Adds --memory SPEC (plan/memory_spec.h; a malformed spec is a usage error) to `cmd`.
void add_memory_option(CLI::App* cmd, std::string& spec);
// The parsed --memory (empty when not given).
std::vector<plan::MemoryRegionSpec> memory_option(const std::string& spec);
// The parsed --memory with wait states from `board` (boards.json) where the spec gives none.
std::vector<plan::MemoryRegionSpec> resolved_memory(const std::string& spec,
                                                    const std::string& board);

// A raw tensor file (no header, cases concatenated): whole tensors of `tensor_bytes`, and for
// float32 every value finite. Errors name the file, the case and the element.
void check_tensor_file(const std::string& path, const std::vector<uint8_t>& data, DType type,
                       uint32_t tensor_bytes);

// CLI11 check for --target: "host" (when allowed) or a target of targets/targets.json.
CLI::Validator target_check(bool allow_host);

// CLI11 checks with messages a user can act on: a decimal whole number >= `min` (no sign, no
// hex, no octal), and a real number in [0, 1).
CLI::Validator whole_number(uint64_t min);
CLI::Validator fraction_below_one();

// The `unsupported` list of --json: one object per refused op (docs/cli.md).
nlohmann::ordered_json refusals_json(const tinyforge::UnsupportedOps& e);

// Adds --json; `print` writes the result as one JSON object or as text.
struct Result {
  bool json = false;
  void add_flag(CLI::App* cmd);
  void print(const nlohmann::ordered_json& j, const std::string& text) const;
};

// A step that may take longer than ~2 s. Silent for its first 2 s (fast steps say nothing),
// then a bar redrawn in place on a terminal, or a plain line every 2 s otherwise; nothing
// with --quiet. `force_bar` draws the bar from the start, terminal or not.
class Progress {
 public:
  explicit Progress(std::string what, bool force_bar = false);
  ~Progress();
  // `total` 0: unknown, the count alone is shown.
  void update(uint64_t done, uint64_t total);
  void finish();

 private:
  std::string what_;
  bool bar_, force_, drawn_ = false, finished_ = false;
  int64_t start_ms_, last_line_ms_;
  int last_step_ = -1;
};

}  // namespace tinyforge::cli
