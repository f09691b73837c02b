#include "import/tflite/import_tflite.h"

#include <cstdint>
#include <cstring>
#include <memory>

#include "io/files.h"
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
      reader.fail(fmt::format("model {} lists {} twice; expected each once", what,
                              reader.tensor_label(t)));
    if (reader.tensor(t).constant)
      reader.fail(fmt::format("model {} {} holds constant data; expected an activation", what,
                              reader.tensor_label(t)));
    out.push_back(t);
  }
  return out;
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
  for (size_t i = 0; i < num_ops; ++i) {
    ir::Node node = tflite_import::map_operator(reader, static_cast<int>(i));
    const int out = node.outputs[0];
    if (reader.tensor(out).constant)
      reader.fail(
          fmt::format("op {} ({}): writes {}, which holds constant data; expected an "
                      "activation tensor",
                      i, op_info(node.op).name, reader.tensor_label(out)));
    nodes.push_back(std::move(node));
  }
  std::vector<int> outputs = io_tensors(reader, *sg.outputs(), "output");

  // Keep the converted tensors in TFLite order and renumber every reference.
  std::vector<int> ir_index(static_cast<size_t>(reader.num_tensors()), -1);
  for (int t = 0; t < reader.num_tensors(); ++t) {
    if (!reader.converted(t)) continue;
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
