#!/usr/bin/env python3
"""Teacher benchmarks in ONE run, our CLI and PyTorch interleaved on the same machine and thread count:

  forward   frozen SmolLM2-135M forward, batch B x T random ids: `leader teacher bench --mode forward` vs
            transformers loading the same GGUF (fp32, dequantised), torch.no_grad, no LM head
  train     one LoRA step (r 8, alpha 32, dropout 0.1 on q,k,v,o,gate,up,down + a 150-way head, BCE, AdamW):
            ours vs transformers + PEFT (all layers; and ours with --top-layers)
            (ours with --recompute off: PEFT keeps its activations too, so both do the same work)
  decode    ours only: greedy one-token steps (M = 1) after a 32-token prompt
  memory    peak RSS of our LoRA step at batch 8 x 256 (all layers with activation recomputation, the
            default, and without; --top-layers)

Every measurement of ours runs once per --precisions entry (fp32: exact dequantised products; int8: int8
activations and integer dot products; bf16: bf16 operands on AMX tiles), and --rounds > 1 repeats the whole
interleaved sequence (ours per precision, PyTorch) and keeps each one's best, so that load on the machine hits
all of them alike. --torch-bf16 adds PyTorch's forward under bf16 autocast as a reference for ours in bf16.

Prints a JSON object and, with --markdown FILE, writes the table used in docs/benchmarks-teacher.md.
Usage: python bench/teacher_bench.py [--leader .build/release/leader-cli] [--threads 2] [--rounds 2] [--markdown F]
       [--precisions fp32,int8,bf16] [--torch-bf16] [--skip-memory] [--forward-only]
Needs: torch (CPU), transformers, gguf, accelerate, peft.
"""
import argparse, json, os, resource, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GGUF = os.path.join(ROOT, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")


def ours(leader, *args):
    out = subprocess.run([leader, "teacher", "bench", "--model", GGUF, *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def torch_forward(model, batch, tokens, repeats, bf16=False):
    """bf16: the same fp32 model under torch.autocast(cpu, bfloat16) (oneDNN; AMX where the CPU has it)."""
    import contextlib
    import torch
    g = torch.Generator().manual_seed(42)
    x = torch.randint(0, 49152, (batch, tokens), generator=g)
    times = []
    cast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with torch.no_grad(), cast:
        for r in range(repeats + 1):
            t = time.perf_counter()
            model.model(x)  # LlamaModel: no LM head (our forward has none either)
            if r:
                times.append(time.perf_counter() - t)
    return batch * tokens / min(times), times


def torch_train(base, batch, tokens, repeats):
    import torch
    from peft import LoraConfig, get_peft_model
    cfg = LoraConfig(r=8, lora_alpha=32, lora_dropout=0.1,
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(base.model, cfg)
    head = torch.nn.Linear(576, 150, bias=False)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0)
    g = torch.Generator().manual_seed(42)
    x = torch.randint(0, 49152, (batch, tokens), generator=g)
    y = (torch.rand(batch, 150, generator=g) < 0.1).float()
    model.train()
    times = []
    for r in range(repeats + 1):
        t = time.perf_counter()
        opt.zero_grad()
        h = model(input_ids=x).last_hidden_state[:, -1]
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(h), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if r:
            times.append(time.perf_counter() - t)
    return batch * tokens / min(times), times


def best(runs):
    """The run with the highest tokensPerSecond (each `ours` result is a dict)."""
    return max(runs, key=lambda r: r["tokensPerSecond"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leader", default=os.path.join(ROOT, ".build/release/leader-cli"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="interleaved repetitions of the whole comparison")
    ap.add_argument("--top-layers", type=int, default=4)
    ap.add_argument("--precisions", default="fp32,int8")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--torch-bf16", action="store_true",
                    help="also time PyTorch's forward under bf16 autocast (a reference for --precision bf16)")
    ap.add_argument("--forward-only", action="store_true",
                    help="only the frozen forward (ours per precision, PyTorch, and with --torch-bf16 its autocast)")
    ap.add_argument("--markdown")
    a = ap.parse_args()
    if not os.path.exists(GGUF):
        sys.exit(f"needs {GGUF} (make model)")
    import torch
    torch.set_num_threads(a.threads)
    from transformers import AutoModelForCausalLM
    precs = a.precisions.split(",")
    common = ["--threads", str(a.threads), "--batch", str(a.batch), "--tokens", str(a.tokens), "--repeats", str(a.repeats)]
    res = {"threads": a.threads, "batch": a.batch, "tokens": a.tokens, "torch": torch.__version__, "rounds": a.rounds}
    m = AutoModelForCausalLM.from_pretrained(os.path.dirname(GGUF), gguf_file=os.path.basename(GGUF),
                                             dtype=torch.float32).eval()
    runs = {k: [] for k in ["torch_forward", "torch_train", "torch_forward_bf16"]}
    kinds = ["forward"] if a.forward_only else ["forward", "train", "train_top", "decode"]
    for p in precs:
        for k in kinds:
            runs[f"ours_{k}_{p}"] = []
    import copy
    for rnd in range(a.rounds):
        for p in precs:
            runs[f"ours_forward_{p}"].append(ours(a.leader, "--mode", "forward", "--precision", p, *common))
        runs["torch_forward"].append(torch_forward(m, a.batch, a.tokens, a.repeats))
        if a.torch_bf16:
            runs["torch_forward_bf16"].append(torch_forward(m, a.batch, a.tokens, a.repeats, bf16=True))
        if a.forward_only:
            continue
        for p in precs:
            runs[f"ours_train_{p}"].append(ours(a.leader, "--mode", "train", "--precision", p, "--recompute", "off",
                                                *common))
            runs[f"ours_train_top_{p}"].append(ours(a.leader, "--mode", "train", "--precision", p, "--recompute",
                                                    "off", "--top-layers", str(a.top_layers), *common))
        runs["torch_train"].append(torch_train(copy.deepcopy(m), a.batch, a.tokens, a.repeats))
        for p in precs:
            runs[f"ours_decode_{p}"].append(ours(a.leader, "--mode", "decode", "--precision", p, "--threads",
                                                 str(a.threads), "--tokens", "32", "--new-tokens", "64", "--repeats",
                                                 str(a.repeats)))
    res["runs"] = runs
    for p in precs:
        for k in kinds:
            res[f"ours_{k}_{p}"] = best(runs[f"ours_{k}_{p}"])
    res["torch_forward_tps"] = max(t for t, _ in runs["torch_forward"])
    if not a.forward_only:
        res["torch_train_tps"] = max(t for t, _ in runs["torch_train"])
    if a.torch_bf16:
        res["torch_forward_bf16_tps"] = max(t for t, _ in runs["torch_forward_bf16"])
    res["torch_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if not a.skip_memory and not a.forward_only:
        for p in precs:
            res[f"ours_train_8x256_{p}"] = ours(a.leader, "--mode", "train", "--precision", p, "--threads",
                                                str(a.threads), "--batch", "8", "--tokens", "256", "--repeats", "1")
            res[f"ours_train_8x256_off_{p}"] = ours(a.leader, "--mode", "train", "--precision", p, "--threads",
                                                    str(a.threads), "--batch", "8", "--tokens", "256", "--repeats",
                                                    "1", "--recompute", "off")
            res[f"ours_train_8x256_top_{p}"] = ours(a.leader, "--mode", "train", "--precision", p, "--threads",
                                                    str(a.threads), "--batch", "8", "--tokens", "256", "--repeats",
                                                    "1", "--top-layers", str(a.top_layers))
    for p in precs:
        res[f"forward_speedup_{p}"] = res[f"ours_forward_{p}"]["tokensPerSecond"] / res["torch_forward_tps"]
        if not a.forward_only:
            res[f"train_speedup_{p}"] = res[f"ours_train_{p}"]["tokensPerSecond"] / res["torch_train_tps"]

    print(json.dumps(res, indent=1))
    if a.markdown:
        f = res
        rows = []
        for p in precs:
            rows.append((f"frozen forward, B {a.batch} x T {a.tokens}, {p}", f[f"ours_forward_{p}"]["tokensPerSecond"],
                         f["torch_forward_tps"]))
            if a.forward_only:
                continue
            rows += [
                (f"LoRA step, all 30 layers, {p}", f[f"ours_train_{p}"]["tokensPerSecond"], f["torch_train_tps"]),
                (f"LoRA step, top {a.top_layers} layers (ours only), {p}", f[f"ours_train_top_{p}"]["tokensPerSecond"], None),
                (f"decode (M = 1, greedy, after 32 tokens; ours only), {p}", f[f"ours_decode_{p}"]["tokensPerSecond"], None),
            ]
        if a.torch_bf16:
            rows.append(("frozen forward, PyTorch under bf16 autocast (reference for ours bf16)",
                         f["ours_forward_bf16"]["tokensPerSecond"] if "bf16" in precs else float("nan"),
                         f["torch_forward_bf16_tps"]))
        with open(a.markdown, "w") as out:
            out.write("| measurement | leader tok/s | PyTorch tok/s | ratio |\n|---|---|---|---|\n")
            for name, o, t in rows:
                out.write(f"| {name} | {o:.0f} | {'' if t is None else f'{t:.0f}'} | {'' if t is None else f'{o / t:.2f}x'} |\n")
            if not a.skip_memory and not a.forward_only:
                for p in precs:
                    out.write(f"\nPeak RSS of our LoRA step at batch 8 x 256 ({p}, all layers, recomputation on): "
                              f"{f[f'ours_train_8x256_{p}']['peakRSSBytes'] / 2**20:.0f} MiB, "
                              f"{f[f'ours_train_8x256_{p}']['tokensPerSecond']:.0f} tok/s; off: "
                              f"{f[f'ours_train_8x256_off_{p}']['peakRSSBytes'] / 2**20:.0f} MiB, "
                              f"{f[f'ours_train_8x256_off_{p}']['tokensPerSecond']:.0f} tok/s; "
                              f"with --top-layers {a.top_layers}: "
                              f"{f[f'ours_train_8x256_top_{p}']['peakRSSBytes'] / 2**20:.0f} MiB.\n")
            work = "forward" if a.forward_only else "PEFT step"
            out.write(f"\nPyTorch process peak RSS (model + {work} at B {a.batch} x T {a.tokens}): "
                      f"{f['torch_peak_rss_bytes'] / 2**20:.0f} MiB.\n")


if __name__ == "__main__":
    main()
