// One switch over the op table for the validator (check_) and the executor (eval_).
#pragma once
#include "tinyforge/kernel.h"

namespace tinyforge {

Status check_op(OpCode op, const void* params, const KernelIO& io);
void eval_op(OpCode op, const void* params, const KernelIO& io);

}  // namespace tinyforge
