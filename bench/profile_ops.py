#!/usr/bin/python3
"""Per-op profile of a tinyforge firmware ELF: instructions and estimated cycles of each op.

Runs the ELF exactly as ../shared/tools/m4sim/m4sim does (it imports m4sim's own loader,
block counter and Cortex-M4 timing model) and additionally marks every entry into the
runtime's dispatch function `tinyforge::eval_op`: the instructions between two entries
belong to the op being run (its kernel plus the executor's per-op work). The op names come
from the plan blob's op records (opcode) and the runtime's op table (ops.def order).

  bench/profile_ops.py firmware.elf --input in.bin [--ops-def runtime/include/tinyforge/ops.def]
prints JSON: {"ops": [{"index", "op", "instructions", "cycles_estimate"}...], "total": ...}
(--functions adds instructions per function symbol, for finding where an op spends them).
The total equals m4sim's `instructions` figure for the same ELF and input.
"""
import argparse
import importlib.machinery
import importlib.util
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
M4SIM = os.environ.get("TINYFORGE_M4SIM", os.path.join(ROOT, "..", "shared", "tools", "m4sim", "m4sim"))


def load_m4sim(path):
    loader = importlib.machinery.SourceFileLoader("m4sim", path)
    spec = importlib.util.spec_from_loader("m4sim", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def op_names(ops_def):
    names = []
    with open(ops_def) as f:
        for line in f:
            m = re.match(r"\s*OP\((\w+),", line)
            if m:
                names.append(m.group(1))
    return names


def profile(elf_path, input_bytes, names, by_function=False):
    m4 = load_m4sim(M4SIM)
    from unicorn import UC_HOOK_CODE
    from unicorn.arm_const import UC_ARM_REG_R0

    fw = m4.Firmware(elf_path)
    eval_op = [a for n, (a, _) in fw.symbols.items() if n.startswith("_ZN9tinyforge7eval_op")]
    if not eval_op:
        raise SystemExit("profile_ops: the ELF has no tinyforge::eval_op symbol")
    eval_addr = eval_op[0] & ~1

    # Wrap m4sim's run(): its Uc object is created inside, so hook Uc.hook_add to add ours.
    import unicorn
    segments = []  # (opcode, instructions_at_entry, cycles_at_entry)
    original_hook_add = unicorn.Uc.hook_add
    state = {}

    def hook_add(self, htype, callback, user_data=None, begin=1, end=0, *args):
        h = original_hook_add(self, htype, callback, user_data, begin, end, *args)
        if htype == unicorn.UC_HOOK_BLOCK and "installed" not in state:
            state["installed"] = True
            st_ref = callback.__closure__  # on_block closes over m4sim's `st` dict
            st = next(c.cell_contents for c in st_ref if isinstance(c.cell_contents, dict) and "insns" in c.cell_contents)
            state["st"] = st

            if state.get("functions") is not None:
                st_block_cost = next(c.cell_contents for c in st_ref if callable(c.cell_contents)
                                     and getattr(c.cell_contents, "__name__", "") == "block_cost")

                def on_fn_block(uc_, addr, size, _):
                    if state["st"]["on"]:
                        n, _cyc = st_block_cost(addr, size)
                        name = function_of(addr)
                        state["functions"][name] = state["functions"].get(name, 0) + n

                original_hook_add(self, unicorn.UC_HOOK_BLOCK, on_fn_block)

            def on_eval(uc_, addr, size, _):
                s = state["st"]
                if s["on"]:
                    segments.append((uc_.reg_read(UC_ARM_REG_R0), s["insns"], s["cycles"]))

            original_hook_add(self, UC_HOOK_CODE, on_eval, None, eval_addr, eval_addr)
        return h

    funcs = sorted((a & ~1, n) for n, (a, sz) in fw.symbols.items() if sz > 0 and a < 0x20000000)
    import bisect
    starts = [a for a, _ in funcs]

    def function_of(addr):
        i = bisect.bisect_right(starts, addr) - 1
        return funcs[i][1] if i >= 0 else "?"

    if by_function:
        state["functions"] = {}
    unicorn.Uc.hook_add = hook_add
    try:
        res = m4.run(elf_path, input_bytes)
    finally:
        unicorn.Uc.hook_add = original_hook_add
    total_i, total_c = res["instructions"], res["cycles_estimate"]
    ops = []
    for k, (opcode, i0, c0) in enumerate(segments):
        i1, c1 = (segments[k + 1][1], segments[k + 1][2]) if k + 1 < len(segments) else (total_i, total_c)
        ops.append({"index": k, "op": names[opcode] if opcode < len(names) else str(opcode),
                    "instructions": i1 - i0, "cycles_estimate": c1 - c0})
    before = segments[0][1] if segments else total_i
    out = {"ops": ops, "before_first_op": before, "total": total_i, "total_cycles": total_c, "m4sim": res}
    if by_function:
        out["functions"] = dict(sorted(state["functions"].items(), key=lambda kv: -kv[1]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elf")
    ap.add_argument("--input", required=True)
    ap.add_argument("--ops-def", default=os.path.join(ROOT, "runtime", "include", "tinyforge", "ops.def"))
    ap.add_argument("--functions", action="store_true", help="also count instructions per function")
    a = ap.parse_args()
    with open(a.input, "rb") as f:
        data = f.read()
    json.dump(profile(a.elf, data, op_names(a.ops_def), a.functions), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
