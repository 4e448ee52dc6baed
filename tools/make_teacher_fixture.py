#!/usr/bin/env python3
"""Writes the teacher's golden fixtures into Tests/LeaderCoreTests/Fixtures/teacher/ (KB-sized):

- smollm2_golden.json   (only when models/SmolLM2-135M-Instruct.Q4_1.gguf exists): for a few sentences, the
  token ids, the top-10 last-position logits and a slice of them from `transformers` loading the same GGUF
  (it dequantises to fp32: the same weights our kernels read), and the greedy answer to the reference chat
  prompt.
- tiny_decoder.json     the tiny random HF LLaMA (Fixtures/tiny_llama, tools/make_tiny_llama.py): last-position
  logits (all 300) and final-norm hidden states of a right-padded batch.
- lora_tiny.safetensors + lora_tiny.json   LoRA (r 8, alpha 32, dropout 0, all seven projections) + a
  medication head Linear(64 -> 10, no bias) on the tiny model, PEFT-wrapped; B is initialised NONZERO so
  that A gets gradients. The .safetensors holds the adapter and head weights (our names); lora_tiny_grads.safetensors
  every element of every gradient (same names); the .json the ids, targets, BCE loss and logits.

Usage: python tools/make_teacher_fixture.py [tiny_decoder] [lora_tiny] [smollm2]   (all three without arguments)
Needs: pip install "torch==2.13.0+cpu" transformers gguf accelerate peft safetensors
"""
import json, os

import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures")
OUT = os.path.join(FIX, "teacher")
GGUF_DIR = os.path.join(ROOT, "models")
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

CHAT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
SENTENCES = [
    "The patient was diagnosed with type 2 diabetes mellitus.",
    "The patient has 2 times ICU visits. In this visit, he has diagnosis: Hypertension NOS, Atrial fibrillation; "
    "procedures: Venous catheterization. Then, the patient should be prescribed: ",
    CHAT,
]


def r(x, n=6):
    return [round(float(v), n) for v in x]


def smollm2():
    path = os.path.join(GGUF_DIR, GGUF)
    if not os.path.exists(path):
        print("skip SmolLM2: no", path)
        return
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(GGUF_DIR, gguf_file=GGUF)
    m = AutoModelForCausalLM.from_pretrained(GGUF_DIR, gguf_file=GGUF, dtype=torch.float32).eval()
    out = {"model": GGUF, "sentences": []}
    for s in SENTENCES:
        ids = tok(s, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            lg = m(torch.tensor([ids])).logits[0, -1]
        top = torch.topk(lg, 10)
        out["sentences"].append({"text": s, "ids": ids, "top_ids": top.indices.tolist(), "top_logits": r(top.values),
                                 "slice_start": 1000, "slice": r(lg[1000:1016])})
    ids = tok(CHAT, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        g = m.generate(torch.tensor([ids]), max_new_tokens=24, do_sample=False, eos_token_id=2)[0, len(ids):].tolist()
    out["chat"] = {"prompt_ids": ids, "generated_ids": g, "generated_text": tok.decode(g)}
    print("SmolLM2 generated:", repr(tok.decode(g)))
    with open(os.path.join(OUT, "smollm2_golden.json"), "w") as f:
        json.dump(out, f, indent=1)


def tiny_batch():
    g = torch.Generator().manual_seed(7)
    lengths = [9, 5, 12]
    ids = torch.zeros(3, 12, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(3, 300, (n,), generator=g)
    return ids, lengths


def tiny_decoder():
    from transformers import LlamaForCausalLM
    m = LlamaForCausalLM.from_pretrained(os.path.join(FIX, "tiny_llama"), dtype=torch.float32).eval()
    ids, lengths = tiny_batch()
    with torch.no_grad():
        o = m(ids, output_hidden_states=True)
    rows = []
    for b, n in enumerate(lengths):
        rows.append({"ids": ids[b, :n].tolist(), "logits": r(o.logits[b, n - 1]),
                     "hidden": r(o.hidden_states[-1][b, n - 1])})
    with open(os.path.join(OUT, "tiny_decoder.json"), "w") as f:
        json.dump({"padded_length": ids.shape[1], "rows": rows}, f, indent=1)


TARGETS = {"q_proj": "attn.q", "k_proj": "attn.k", "v_proj": "attn.v", "o_proj": "attn.o",
           "gate_proj": "ffn.gate", "up_proj": "ffn.up", "down_proj": "ffn.down"}


def our_name(peft_name):
    # base_model.model.layers.0.self_attn.q_proj.lora_A.default.weight -> layers.0.attn.q.lora_A.weight
    parts = peft_name.split(".")
    layer = parts[parts.index("layers") + 1]
    proj = next(p for p in parts if p in TARGETS)
    ab = "lora_A" if "lora_A" in parts else "lora_B"
    return f"layers.{layer}.{TARGETS[proj]}.{ab}.weight"


def lora_tiny():
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaModel
    torch.manual_seed(11)
    base = LlamaModel.from_pretrained(os.path.join(FIX, "tiny_llama"), dtype=torch.float32)
    cfg = LoraConfig(r=8, lora_alpha=32, lora_dropout=0.0, target_modules=list(TARGETS), bias="none")
    model = get_peft_model(base, cfg)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_" in n:
                p.copy_(torch.randn(p.shape) * 0.05)
    head = torch.nn.Linear(64, 10, bias=False)
    ids, lengths = tiny_batch()
    targets = (torch.rand(3, 10, generator=torch.Generator().manual_seed(3)) < 0.3).float()
    h = model(input_ids=ids).last_hidden_state
    pooled = h[torch.arange(3), torch.tensor(lengths) - 1]
    logits = head(pooled)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    loss.backward()
    weights, grads = {}, {}
    for n, p in model.named_parameters():
        if "lora_" in n:
            weights[our_name(n)] = p.detach().clone().contiguous()
            grads[our_name(n)] = p.grad
    weights["cls_head.weight"] = head.weight.detach().clone().contiguous()
    grads["cls_head.weight"] = head.weight.grad
    save_file(weights, os.path.join(OUT, "lora_tiny.safetensors"))
    save_file({k: v.detach().clone().contiguous() for k, v in grads.items()},
              os.path.join(OUT, "lora_tiny_grads.safetensors"))
    doc = {"rank": 8, "alpha": 32, "medications": 10, "ids": [ids[b, :n].tolist() for b, n in enumerate(lengths)],
           "targets": targets.tolist(), "loss": float(loss), "logits": [r(x, 7) for x in logits.detach()]}
    with open(os.path.join(OUT, "lora_tiny.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print("LoRA loss", float(loss))


if __name__ == "__main__":
    import sys
    os.makedirs(OUT, exist_ok=True)
    parts = {"tiny_decoder": tiny_decoder, "lora_tiny": lora_tiny, "smollm2": smollm2}
    for name in sys.argv[1:] or list(parts):
        parts[name]()
