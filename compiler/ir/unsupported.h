// A model tinyforge cannot run, with every reason at once: the importers and the lowering
// refuse op by op, keep going where the graph stays well-formed, and throw one
// UnsupportedOps listing each refused op, so that a user meets all the missing ops in one go
// instead of one per attempt.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "ir/error.h"

namespace tinyforge {

namespace ir {
struct Graph;
}

// A feature tinyforge does not implement (an op, a dtype), as opposed to a malformed file:
// the importers collect these per op and read on; anything else stops them at once.
struct UnsupportedError : Error {
  using Error::Error;
};

struct Refusal {
  int index = -1;     // operator index in the model file (TFLite operator, ONNX node)
  std::string op;     // as the file names it (TFLite builtin, ONNX op type) or the IR op
  std::string name;   // the node's name when the file gives one
  int version = 0;    // TFLite operator-code version; ONNX: the default domain's opset
  std::string dtype;  // of the op's first input as the file declares it; "" when unknown
  std::string stage;  // "import" (no mapping) or "lowering" (no kernel for the target)
  std::string reason;
};

class UnsupportedOps : public Error {
 public:
  // `partial`: the graph of the ops that did import, so that their lowering can be checked
  // for a target too (null when not available).
  UnsupportedOps(std::string source, std::vector<Refusal> refusals, std::string target = "",
                 std::shared_ptr<ir::Graph> partial = nullptr);

  const std::string& source() const { return source_; }
  const std::string& target() const { return target_; }
  const std::vector<Refusal>& refusals() const { return refusals_; }
  const std::shared_ptr<ir::Graph>& partial() const { return partial_; }

  // The first line: "FILE: N ops are unsupported (...)", then one line per refused op,
  // "FILE: op I (NAME) vV DTYPE: reason"; one refused op: its line alone (the usual
  // one-line error). what() is these lines; the CLI prefixes each with "tinyforge: ".
  std::vector<std::string> lines() const;

 private:
  std::string source_, target_;
  std::vector<Refusal> refusals_;
  std::shared_ptr<ir::Graph> partial_;
};

// The message of one refusal, without the file: "op 3 (RESIZE_BILINEAR) v1 float32: ...".
std::string refusal_text(const Refusal& r);

// `full` ("FILE: op 3 (NAME): what") without its leading `prefix` + ": " when it has one:
// the reason alone for a refusal's line.
std::string strip_prefix(const std::string& full, const std::string& prefix);

}  // namespace tinyforge
