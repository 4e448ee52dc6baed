#!/usr/bin/env python3
"""Writes Tests/LeaderCoreTests/Fixtures/teacher/smollm2_int8.json (KB-sized; only when
models/SmolLM2-135M-Instruct.Q4_1.gguf exists): what `--precision int8` must compute, simulated independently in
PyTorch. transformers loads the GGUF (dequantised fp32 weights: the blocks our kernels read); a forward pre-hook on
every decoder projection (q, k, v, o, gate, up, down) and the LM head replaces its input by its Q8A rounding
(docs/kernels/int8-gemm.md): per block of 32 values d = max|x|/127 (f32), q = round-half-even(x * (1/d)),
x^ = d*q. The product of x^ with the fp32 weights equals our integer-dot product up to f32 summation order.

For each golden sentence (smollm2_golden.json): the top-10 last-position logits of the int8 simulation and of
fp32; for the reference chat prompt: the int8 simulation's greedy tokens (12) and the fp32 top-3 of the first step
(the fp32 answer "The" leads "A" by 0.08 logits there, so int8 rounding flips it), and the simulation's top-2
logits at every greedy step. Step 7 is a near tie (2.695 vs 2.670): PyTorch on 2 threads sums in another order
and flips it, so the simulation runs on 1 thread; our kernels may flip it, or step 9 (19.49 vs 19.18, flipped by
`LEADER_ISA=avx2`), too: int8's logits sit up to ~0.8 from the simulation's, so the test lets the greedy
sequences part only at a step whose top-2 are less than 1.0 apart (and names the step otherwise).

Usage: python tools/make_int8_fixture.py
Needs: pip install "torch==2.13.0+cpu" transformers gguf accelerate
"""
import json, os

import torch
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures/teacher")
GGUF = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")


def q8a(x):
    shape = x.shape
    xb = x.reshape(-1, 32)
    d = xb.abs().amax(1, keepdim=True) / 127.0
    inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
    q = torch.round(xb * inv).clamp(-127, 127)   # torch.round: half to even, like nearbyintf / vcvtps2dq
    return (q * d).reshape(shape)


def main():
    if not os.path.exists(GGUF):
        raise SystemExit(f"needs {GGUF} (make model)")
    torch.set_num_threads(1)
    m = AutoModelForCausalLM.from_pretrained(os.path.dirname(GGUF), gguf_file=os.path.basename(GGUF),
                                             dtype=torch.float32).eval()
    on = [False]
    for name, mod in m.named_modules():
        if isinstance(mod, torch.nn.Linear):
            mod.register_forward_pre_hook(lambda mod, inp: (q8a(inp[0]),) if on[0] else None)
    golden = json.load(open(os.path.join(OUT, "smollm2_golden.json")))
    out = {"sentences": [], "chat": {}}
    with torch.no_grad():
        for s in golden["sentences"]:
            ids = torch.tensor([s["ids"]])
            on[0] = False
            exact = m(ids).logits[0, -1]
            on[0] = True
            sim = m(ids).logits[0, -1]
            te, ts = exact.topk(10), sim.topk(10)
            out["sentences"].append({"ids": s["ids"], "int8_top_ids": ts.indices.tolist(),
                                     "int8_top_logits": ts.values.tolist(), "fp32_top_ids": te.indices.tolist(),
                                     "fp32_top_logits": te.values.tolist()})
        prompt = torch.tensor([golden["chat"]["prompt_ids"]])
        on[0] = False
        first = m(prompt).logits[0, -1].topk(3)
        on[0] = True
        g = m.generate(prompt, max_new_tokens=12, do_sample=False, output_scores=True, return_dict_in_generate=True)
        gen = g.sequences[0, prompt.shape[1]:].tolist()
        margins = [[round(v, 4) for v in step[0].topk(2).values.tolist()] for step in g.scores]
    out["chat"] = {"prompt_ids": golden["chat"]["prompt_ids"], "int8_generated_ids": gen,
                   "fp32_first_top_ids": first.indices.tolist(), "fp32_first_top_logits": first.values.tolist(),
                   "int8_step_top2_logits": margins}
    with open(os.path.join(OUT, "smollm2_int8.json"), "w") as f:
        json.dump(out, f)
    print(json.dumps(out["chat"]))


if __name__ == "__main__":
    main()
