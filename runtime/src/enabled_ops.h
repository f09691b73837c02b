// Which ops of ops.def this build of the runtime carries, and which plans it reads.
//
// A firmware image compiles runtime/src/dispatch.cc, names.cc, runtime.cc and validate.cc
// again with its own generated "tinyforge_model_ops.h" (compiler/emit/model_ops.h), which
// sets TINYFORGE_OP_ENABLED_<Name> to 1 for the ops of the image's kernel set and 0 for the
// others, and the two image switches below. Without that header (the runtime library, the
// host) every op is enabled and every plan is read.
//
//   TINYFORGE_OP_IS_ENABLED(Name)   1 or 0, usable in constant expressions
//   TINYFORGE_OP_CASE(Name, ...)    the tokens `...` when Name is enabled, else nothing
//   TINYFORGE_IMAGE_MEMORY_REGIONS  1: plans of format 1.2 (memory regions, init copies) are
//                                   read; 0: refused with bad_version, their code left out
//   TINYFORGE_IMAGE_INT16           1: plans with int16 tensors are read; 0: refused with
//                                   bad_enum, and the int16 paths of the kernels that also
//                                   take int8 are left out (kernels test kImageInt16 /
//                                   image_int16())
// INT16, FLOAT and EXACT_REQUANT shape the kernels too: an image with one of them at 0 links
// a runtime library compiled with the same -D (emit/cross_build.h).
//   TINYFORGE_IMAGE_FLOAT           1: plans with float32 tensors are read; 0: refused with
//                                   bad_enum, float paths left out (kImageFloat, image_float())
//   TINYFORGE_IMAGE_EXACT_REQUANT   1: the DSP kernels take both output stages (RequantMode);
//                                   0: only the fast one, the exact one left out and an op
//                                   asking for it refused by its check (bad_params)
//   TINYFORGE_IMAGE_MAX_OP_INPUTS   the most inputs and outputs an op of the image's kernel
//   TINYFORGE_IMAGE_MAX_OP_OUTPUTS  set takes (the executor and validator size their per-op
//                                   frames of tensor views by them)
#pragma once

#include "tinyforge/dtype.h"
#include "tinyforge/ops.h"

#if __has_include("tinyforge_model_ops.h")
#include "tinyforge_model_ops.h"
#define TINYFORGE_OP_IS_ENABLED(name) TINYFORGE_OP_ENABLED_##name
#define TINYFORGE_OP_CASE(name, ...) TINYFORGE_OP_CASE_(TINYFORGE_OP_ENABLED_##name, __VA_ARGS__)
#define TINYFORGE_OP_CASE_(enabled, ...) TINYFORGE_OP_CASE__(enabled, __VA_ARGS__)
#define TINYFORGE_OP_CASE__(enabled, ...) TINYFORGE_OP_WHEN_##enabled(__VA_ARGS__)
#define TINYFORGE_OP_WHEN_1(...) __VA_ARGS__
#define TINYFORGE_OP_WHEN_0(...)
#else
#define TINYFORGE_OP_IS_ENABLED(name) 1
#define TINYFORGE_OP_CASE(name, ...) __VA_ARGS__
#endif

#ifndef TINYFORGE_IMAGE_MEMORY_REGIONS
#define TINYFORGE_IMAGE_MEMORY_REGIONS 1
#endif
#ifndef TINYFORGE_IMAGE_INT16
#define TINYFORGE_IMAGE_INT16 1
#endif
#ifndef TINYFORGE_IMAGE_FLOAT
#define TINYFORGE_IMAGE_FLOAT 1
#endif
#ifndef TINYFORGE_IMAGE_EXACT_REQUANT
#define TINYFORGE_IMAGE_EXACT_REQUANT 1
#endif
#ifndef TINYFORGE_IMAGE_MAX_OP_INPUTS
#define TINYFORGE_IMAGE_MAX_OP_INPUTS kMaxOpInputs
#endif
#ifndef TINYFORGE_IMAGE_MAX_OP_OUTPUTS
#define TINYFORGE_IMAGE_MAX_OP_OUTPUTS kMaxOpOutputs
#endif

namespace tinyforge {

constexpr bool kImageMemoryRegions = TINYFORGE_IMAGE_MEMORY_REGIONS;
// An image whose plan has no int16 tensor carries no int16 arithmetic (code size).
constexpr bool kImageInt16 = TINYFORGE_IMAGE_INT16;
// `t` is int16 and this image runs int16 (a kernel's int16 branch folds away otherwise).
constexpr bool image_int16(DType t) { return kImageInt16 && t == DType::i16; }
// Likewise float32 (the float paths of kernels that also take integers; Softmax's expf).
constexpr bool kImageFloat = TINYFORGE_IMAGE_FLOAT;
constexpr bool image_float(DType t) { return kImageFloat && t == DType::f32; }
// The DSP kernels' exact output stage (RequantMode::exact): only in images whose plan uses it.
constexpr bool kImageExactRequant = TINYFORGE_IMAGE_EXACT_REQUANT;
// Most ops have one or two outputs, Split and Unpack up to kMaxOpOutputs. An op's tensor
// views live in the frame of the call that runs or checks it (never inlined), so only an
// op with more outputs pays their stack, and only an image with such an op has that frame.
// An image whose ops have at most one output holds one output view per op.
constexpr uint8_t kCommonOutputs = TINYFORGE_IMAGE_MAX_OP_OUTPUTS < 2 ? 1 : 2;
constexpr bool kImageManyOutputs = TINYFORGE_IMAGE_MAX_OP_OUTPUTS > kCommonOutputs;
// The validator refuses an op with more inputs (every op of the kernel set has at most as many).
constexpr uint8_t kImageInputs = TINYFORGE_IMAGE_MAX_OP_INPUTS;
// Only stateful ops read state tensors: an image without one leaves out their zeroing.
// (The ops of ops.h's is_state_input.)
constexpr bool kImageState = TINYFORGE_OP_IS_ENABLED(Svdf) || TINYFORGE_OP_IS_ENABLED(Lstm) ||
                             TINYFORGE_OP_IS_ENABLED(SignalFilterBankSpectralSubtraction) ||
                             TINYFORGE_OP_IS_ENABLED(SignalDelay);

}  // namespace tinyforge
