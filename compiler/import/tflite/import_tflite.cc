#include "import/tflite/import_tflite.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include "import/tflite/op_mapper.h"
#include "io/files.h"
#include "ir/unsupported.h"
#include "ops/host_op.h"
#include "tflite_reader.h"

namespace tinyforge {
namespace {

using tflite_import::printable;
using tflite_import::Reader;

// The schema version this reader follows (schema.fbs revision history: version 3).
constexpr uint32_t kSchemaVersion = 3;
// Verifier limits: TFLite nests only a few levels; real models have thousands of tables.
constexpr flatbuffers::uoffset_t kMaxDepth = 64;
constexpr flatbuffers::uoffset_t kMaxTables = 1u << 22;
constexpr size_t kMaxFileBytes = (size_t{1} << 31) - 1;  // flatbuffers needs size < this

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw tinyforge::Error(fmt::format("{}: {}", source, what));
}

// File-level checks, then the flatbuffers Verifier over every table the schema declares.
const tfl::Model& verified_model(const uint8_t* data, size_t size, const std::string& source) {
  if (size < 8)
    fail(source, fmt::format("file is {} bytes; expected a TFLite flatbuffer of at least 8", size));
  if (size >= kMaxFileBytes)
    fail(source, fmt::format("file is {} bytes; expected under 2 GiB", size));
  if (!flatbuffers::BufferHasIdentifier(data, tfl::ModelIdentifier()))
    fail(source, fmt::format("file identifier is '{}'; expected 'TFL3' (not a TFLite model)",
                             printable(std::string(reinterpret_cast<const char*>(data) + 4, 4))));
  flatbuffers::Verifier::Options options;
  options.max_depth = kMaxDepth;
  options.max_tables = kMaxTables;
  flatbuffers::Verifier verifier(data, size, options);
  if (!tfl::VerifyModelBuffer(verifier))
    fail(source, fmt::format("flatbuffer verification failed ({} bytes); expected a well-formed "
                             "TFLite model (truncated or corrupt file)",
                             size));
  const tfl::Model& model = *tfl::GetModel(data);
  if (model.version() != kSchemaVersion)
    fail(source, fmt::format("schema version {}; expected {}", model.version(), kSchemaVersion));
  return model;
}

const tfl::SubGraph& main_subgraph(const tfl::Model& model, const std::string& source) {
  const size_t n = model.subgraphs() ? model.subgraphs()->size() : 0;
  if (n != 1)
    fail(source, fmt::format("model has {} subgraphs; expected exactly 1 (control flow such as "
                             "WHILE/IF/CALL_ONCE is not supported)",
                             n));
  const tfl::SubGraph& sg = *model.subgraphs()->Get(0);
  if (!sg.tensors() || sg.tensors()->size() == 0)
    fail(source, "subgraph 0 has no tensors; expected at least its inputs and outputs");
  if (!sg.inputs() || sg.inputs()->size() == 0)
    fail(source, "subgraph 0 lists no inputs; expected at least one model input");
  if (!sg.outputs() || sg.outputs()->size() == 0)
    fail(source, "subgraph 0 lists no outputs; expected at least one model output");
  return sg;
}

// Model inputs or outputs: tensor indices in range, listed once, not constants.
std::vector<int> io_tensors(Reader& reader, const flatbuffers::Vector<int32_t>& list,
                            const char* what) {
  std::vector<int> out;
  std::vector<char> listed(static_cast<size_t>(reader.num_tensors()), 0);
  for (int32_t t : list) {
    if (t < 0 || t >= reader.num_tensors())
      reader.fail(fmt::format("model {} lists tensor {}; expected 0..{}", what, t,
                              reader.num_tensors() - 1));
    if (listed[static_cast<size_t>(t)]++)
      reader.fail(
          fmt::format("model {} lists {} twice; expected each once", what, reader.tensor_label(t)));
    if (reader.tensor(t).constant)
      reader.fail(fmt::format("model {} {} holds constant data; expected an activation", what,
                              reader.tensor_label(t)));
    out.push_back(t);
  }
  return out;
}

// What a refusal says about TFLite operator `i` beside its reason: builtin name, operator
// code version and its first input's dtype, read straight from the (verified) file.
Refusal describe_operator(const Reader& reader, int i) {
  Refusal r;
  r.index = i;
  r.stage = "import";
  const auto at = static_cast<flatbuffers::uoffset_t>(i);
  const tfl::Operator& op = *reader.subgraph().operators()->Get(at);
  const auto* codes = reader.model().operator_codes();
  if (codes && op.opcode_index() < codes->size()) {
    const tfl::OperatorCode& code = *codes->Get(op.opcode_index());
    const int32_t builtin = std::max(static_cast<int32_t>(code.deprecated_builtin_code()),
                                     static_cast<int32_t>(code.builtin_code()));
    r.op = tflite_import::builtin_name(builtin);
    if (static_cast<tfl::BuiltinOperator>(builtin) == tfl::BuiltinOperator::CUSTOM &&
        code.custom_code())
      r.op += " '" + printable(code.custom_code()->str(), 60) + "'";
    r.version = code.version();
  } else {
    r.op = "?";
  }
  if (op.inputs() && op.inputs()->size() > 0) {
    const int t = op.inputs()->Get(0);
    if (t >= 0 && t < reader.num_tensors()) {
      std::string type = tflite_import::tensor_type_name(
          reader.subgraph().tensors()->Get(static_cast<flatbuffers::uoffset_t>(t))->type());
      std::transform(type.begin(), type.end(), type.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.dtype = type;
    }
  }
  return r;
}

bool reads_refused_tensor(const Reader& reader, int i) {
  const auto at = static_cast<flatbuffers::uoffset_t>(i);
  const tfl::Operator& op = *reader.subgraph().operators()->Get(at);
  for (const auto* list : {op.inputs(), op.outputs()})
    if (list)
      for (int32_t t : *list)
        if (t >= 0 && t < reader.num_tensors() && reader.refused(t)) return true;
  return false;
}

// Builtins that some op maps, by name (the importer's own list, so the two cannot differ).
bool builtin_is_mapped(const std::string& name) {
  static const std::set<std::string> mapped = [] {
    std::set<std::string> s;
    std::stringstream list(tflite_import::supported_builtins());
    for (std::string item; std::getline(list, item, ',');)
      s.insert(item.substr(item.find_first_not_of(' ')));
    return s;
  }();
  return mapped.count(name) > 0;
}

// The custom_code of TFLite operator `i` when it is a custom op with one, else "".
std::string custom_code_of(const Reader& reader, int i) {
  const tfl::Operator& op =
      *reader.subgraph().operators()->Get(static_cast<flatbuffers::uoffset_t>(i));
  const auto* codes = reader.model().operator_codes();
  if (!codes || op.opcode_index() >= codes->size()) return "";
  const tfl::OperatorCode& code = *codes->Get(op.opcode_index());
  const int32_t builtin = std::max(static_cast<int32_t>(code.deprecated_builtin_code()),
                                   static_cast<int32_t>(code.builtin_code()));
  if (builtin != ops::kTfliteCustom || !code.custom_code()) return "";
  return code.custom_code()->str();
}

// TFLite SHAPE has no op of its own: shapes are static here, so its output becomes a
// constant int32 tensor of the input's dims, which the ops reading it (RESHAPE's shape
// operand) take as any constant.
void fold_shape(Reader& reader, int op_index) {
  const auto at = static_cast<flatbuffers::uoffset_t>(op_index);
  tflite_import::OpMapper m(reader, op_index, *reader.subgraph().operators()->Get(at), "SHAPE");
  m.require_arity(1, 1);
  const std::vector<int32_t> dims = m.input(0).shape;
  for (int32_t t : *reader.subgraph().outputs())
    if (t == m.output_index())
      m.unsupported("its output is a model output; expected an op to read it");
  ir::Tensor& out = m.output();
  if (out.type != DType::i32)
    m.unsupported(
        fmt::format("{} is {}; expected int32 (out_type)", m.out_label(), dtype_name(out.type)));
  m.require_shape(out, m.out_label(), {static_cast<int32_t>(dims.size())});
  if (out.constant)
    m.fail(fmt::format("{} holds constant data; expected an activation tensor", m.out_label()));
  out.constant = true;
  out.data.resize(dims.size() * sizeof(int32_t));
  if (!dims.empty()) std::memcpy(out.data.data(), dims.data(), out.data.size());
}

ir::Graph read_graph(const uint8_t* data, size_t size, const std::string& source) {
  const tfl::Model& model = verified_model(data, size, source);
  const tfl::SubGraph& sg = main_subgraph(model, source);
  Reader reader(data, size, source, model, sg);

  ir::Graph g;
  g.source = source;
  std::vector<int> inputs = io_tensors(reader, *sg.inputs(), "input");
  const size_t num_ops = sg.operators() ? sg.operators()->size() : 0;
  std::vector<ir::Node> nodes;
  // Each operator is mapped on its own: one tinyforge does not support (builtin, dtype) is
  // refused and the rest are still read (the tensors are the file's, whatever their
  // producer), so that every unsupported op is named in one error. A malformed file still
  // stops at its first error.
  std::vector<Refusal> refusals;
  for (size_t i = 0; i < num_ops; ++i) {
    if (reads_refused_tensor(reader, static_cast<int>(i))) continue;  // named where first read
    Refusal r = describe_operator(reader, static_cast<int>(i));
    const bool is_shape = r.op == "SHAPE";
    const std::string custom_code = custom_code_of(reader, static_cast<int>(i));
    const bool mapped = custom_code.empty() ? builtin_is_mapped(r.op)
                                            : ops::find_tflite_custom_read(custom_code) != nullptr;
    if (r.op != "?" && !is_shape && !mapped) {
      r.reason = r.op.rfind("CUSTOM", 0) == 0
                     ? fmt::format(
                           "custom op; expected a builtin op or one of the custom ops "
                           "tinyforge reads ({})",
                           tflite_import::supported_custom_ops())
                     : "no tinyforge op maps this builtin (docs/ops.md lists those that do)";
      refusals.push_back(std::move(r));
      continue;
    }
    try {
      if (is_shape) {
        fold_shape(reader, static_cast<int>(i));
        continue;
      }
      ir::Node node = tflite_import::map_operator(reader, static_cast<int>(i));
      for (int out : node.outputs)
        if (reader.tensor(out).constant)
          reader.fail(
              fmt::format("op {} ({}): writes {}, which holds constant data; expected an "
                          "activation tensor",
                          i, op_info(node.op).name, reader.tensor_label(out)));
      node.source_index = static_cast<int>(i);
      nodes.push_back(std::move(node));
    } catch (const UnsupportedError& e) {
      const std::string what = strip_prefix(e.what(), source);
      r.reason = strip_prefix(what, fmt::format("op {} ({})", i, r.op));
      refusals.push_back(std::move(r));
    }
  }
  std::vector<int> outputs = io_tensors(reader, *sg.outputs(), "output");

  // Keep the referenced tensors in TFLite order and renumber every reference. Operands an
  // op holds as attributes (RESHAPE's shape, TRANSPOSE's perm, PAD's paddings) were read
  // and checked but are not kept.
  std::vector<char> referenced(static_cast<size_t>(reader.num_tensors()), 0);
  for (const ir::Node& n : nodes)
    for (const std::vector<int>* list : {&n.inputs, &n.outputs})
      for (int t : *list)
        if (t >= 0) referenced[static_cast<size_t>(t)] = 1;
  for (const std::vector<int>* list : {&inputs, &outputs})
    for (int t : *list) referenced[static_cast<size_t>(t)] = 1;
  std::vector<int> ir_index(static_cast<size_t>(reader.num_tensors()), -1);
  for (int t = 0; t < reader.num_tensors(); ++t) {
    if (!reader.converted(t) || !referenced[static_cast<size_t>(t)]) continue;
    ir_index[static_cast<size_t>(t)] = g.add_tensor(std::move(reader.tensor(t)));
  }
  auto renumber = [&](std::vector<int>& list) {
    for (int& t : list)
      if (t >= 0) t = ir_index[static_cast<size_t>(t)];
  };
  for (ir::Node& n : nodes) {
    renumber(n.inputs);
    renumber(n.outputs);
  }
  renumber(inputs);
  renumber(outputs);
  g.nodes = std::move(nodes);
  g.inputs = std::move(inputs);
  g.outputs = std::move(outputs);
  if (!refusals.empty())  // the ops that did map, for their lowering to be checked too
    throw UnsupportedOps(source, std::move(refusals), "",
                         std::make_shared<ir::Graph>(std::move(g)));
  g.check();  // use before definition (cyclic or unordered ops), tensors written twice
  return g;
}

}  // namespace

ir::Graph import_tflite(const uint8_t* data, size_t size, const std::string& source_name) {
  if (data == nullptr && size > 0) fail(source_name, "no data");
  // flatbuffers reads scalars in place: give it a buffer aligned like operator new's.
  if (reinterpret_cast<uintptr_t>(data) % alignof(std::max_align_t) != 0) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[size]);
    std::memcpy(copy.get(), data, size);
    return read_graph(copy.get(), size, source_name);
  }
  return read_graph(data, size, source_name);
}

ir::Graph import_tflite_file(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file(path);
  return import_tflite(bytes.data(), bytes.size(), path);
}

}  // namespace tinyforge
