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
//   TINYFORGE_IMAGE_MAX_OP_OUTPUTS  the most outputs an op of the image has (the executor
//                                   and validator size their per-op frames by it)
#pragma once

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
#ifndef TINYFORGE_IMAGE_MAX_OP_OUTPUTS
#define TINYFORGE_IMAGE_MAX_OP_OUTPUTS kMaxOpOutputs
#endif

namespace tinyforge {

constexpr bool kImageMemoryRegions = TINYFORGE_IMAGE_MEMORY_REGIONS;
// Most ops have one or two outputs, Split and Unpack up to kMaxOpOutputs. An op's tensor
// views live in the frame of the call that runs or checks it (never inlined), so only an
// op with more outputs pays their stack, and only an image with such an op has that frame.
constexpr uint8_t kCommonOutputs = 2;
constexpr bool kImageManyOutputs = TINYFORGE_IMAGE_MAX_OP_OUTPUTS > kCommonOutputs;
// Only stateful ops read state tensors: an image without one leaves out their zeroing.
constexpr bool kImageState = TINYFORGE_OP_IS_ENABLED(Svdf);

}  // namespace tinyforge
