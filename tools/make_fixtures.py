#!/usr/bin/env python3
"""Generates the PyTorch reference fixtures of LeaderCoreTests (KB-sized JSON in Tests/LeaderCoreTests/Fixtures):

set_model_training.json: a tiny set model built and trained in PyTorch, which the Swift test rebuilds, loads
by parameter name, trains and compares.

Model (the LEADER student's building blocks, dropout off):
    ids (B,T), -1 = padding  ->  Embedding(V,C) with zero rows for padding
    -> 2 x pre-LN TransformerBlock with key-padding mask
         x = x + o(MHA(LN1(x)))      q/k/v Linear(C,C,no bias), o Linear(C,C), softmax over valid keys only
         x = x + fc2(GELU_tanh(fc1(LN2(x))))
    -> masked mean-pool over valid positions -> Linear(C,L) -> BCEWithLogits (mean) vs multi-hot targets.
Training: full batch, 20 steps, gradient clipping (global norm), linear warm-up/decay schedule, run once with
Adam and once with AdamW from the same initial weights.

llama_block.json: one LLaMA-style decoder block (RMSNorm, causal grouped-query attention with rotate-half RoPE
as Hugging Face applies it, SwiGLU) on a right-padded batch: its output and the gradients of sum(out * R).

Deterministic and re-runnable: `python3 tools/make_fixtures.py` (torch CPU, single thread) rewrites the file
byte-identically.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

V, C, H, FFN, LAYERS, L = 23, 12, 3, 20, 2, 7
B, T = 5, 6
LN_EPS = 1e-12
STEPS, LR, WARMUP, TOTAL, MAX_NORM = 20, 1e-2, 3, 25, 0.5
ADAMW_WD = 0.1
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "LeaderCoreTests", "Fixtures")
OUT = os.path.join(FIXTURES, "set_model_training.json")


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(C, C, bias=False)
        self.k = nn.Linear(C, C, bias=False)
        self.v = nn.Linear(C, C, bias=False)
        self.o = nn.Linear(C, C)

    def forward(self, x, valid):  # x (B,T,C), valid (B,T) bool
        b, t, _ = x.shape
        d = C // H
        q = self.q(x).view(b, t, H, d).transpose(1, 2)
        k = self.k(x).view(b, t, H, d).transpose(1, 2)
        v = self.v(x).view(b, t, H, d).transpose(1, 2)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        s = s.masked_fill(~valid[:, None, None, :], float("-inf"))
        y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, C)
        return self.o(y)


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(C, FFN)
        self.fc2 = nn.Linear(FFN, C)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = nn.LayerNorm(C, eps=LN_EPS)
        self.attn = Attention()
        self.norm2 = nn.LayerNorm(C, eps=LN_EPS)
        self.ffn = FeedForward()

    def forward(self, x, valid):
        x = x + self.attn(self.norm1(x), valid)
        return x + self.ffn(self.norm2(x))


class SetModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, C)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.head = nn.Linear(C, L)

    def forward(self, ids):
        valid = ids >= 0
        x = self.embedding(ids.clamp(min=0)) * valid.unsqueeze(-1).float()
        for blk in self.blocks:
            x = blk(x, valid)
        m = valid.unsqueeze(-1).float()
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1)
        return self.head(pooled)


def floats(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def lr_at(step):  # Hugging Face get_linear_schedule_with_warmup, step = updates done so far
    if step < WARMUP:
        return LR * step / WARMUP
    return LR * max(0, TOTAL - step) / (TOTAL - WARMUP)


def train(model, ids, targets, opt_name):
    if opt_name == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=LR)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=ADAMW_WD)
    losses, norms, first_grads = [], [], None
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(ids), targets)
        loss.backward()
        if first_grads is None:
            first_grads = {n: floats(p.grad) for n, p in model.named_parameters()}
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)))
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        final_loss = float(F.binary_cross_entropy_with_logits(model(ids), targets))
    final = {n: floats(p.reshape(-1)) for n, p in model.named_parameters()}
    return {"losses": losses, "grad_norms": norms, "final_loss": final_loss, "final": final}, first_grads


# ---- LLaMA-style block -------------------------------------------------------------------------------
LC, LH, LKV, LHID, LB, LT, THETA, RMS_EPS = 16, 4, 2, 24, 2, 5, 500.0, 1e-6


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, pos):  # x (B,H,T,D), pos (B,T): Hugging Face LlamaRotaryEmbedding + apply_rotary_pos_emb
    d = x.shape[-1]
    inv_freq = 1.0 / (THETA ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    freqs = pos[:, :, None].float() * inv_freq[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    return x * cos + rotate_half(x) * sin


class RMSNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(LC))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * self.weight


class LlamaAttention(nn.Module):
    def __init__(self):
        super().__init__()
        d = LC // LH
        self.q = nn.Linear(LC, LH * d, bias=False)
        self.k = nn.Linear(LC, LKV * d, bias=False)
        self.v = nn.Linear(LC, LKV * d, bias=False)
        self.o = nn.Linear(LH * d, LC, bias=False)

    def forward(self, x, pos, lengths):
        b, t, _ = x.shape
        d = LC // LH
        q = apply_rope(self.q(x).view(b, t, LH, d).transpose(1, 2), pos)
        k = apply_rope(self.k(x).view(b, t, LKV, d).transpose(1, 2), pos)
        v = self.v(x).view(b, t, LKV, d).transpose(1, 2)
        k = k.repeat_interleave(LH // LKV, dim=1)  # Hugging Face repeat_kv
        v = v.repeat_interleave(LH // LKV, dim=1)
        s = (q @ k.transpose(-2, -1)) / math.sqrt(d)
        key = torch.arange(t)[None, None, None, :]
        query = torch.arange(t)[None, None, :, None]
        allowed = (key <= query) & (key < torch.tensor(lengths)[:, None, None, None])
        s = s.masked_fill(~allowed, float("-inf"))
        y = (F.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, LH * d)
        return self.o(y)


class LlamaMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(LC, LHID, bias=False)
        self.up = nn.Linear(LC, LHID, bias=False)
        self.down = nn.Linear(LHID, LC, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class LlamaBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = RMSNorm()
        self.attn = LlamaAttention()
        self.norm2 = RMSNorm()
        self.ffn = LlamaMLP()

    def forward(self, x, pos, lengths):
        x = x + self.attn(self.norm1(x), pos, lengths)
        return x + self.ffn(self.norm2(x))


def llama_block_fixture():
    torch.manual_seed(99)
    blk = LlamaBlock()
    with torch.no_grad():
        for n, p in blk.named_parameters():
            if "norm" in n:
                p.add_(0.1 * torch.randn_like(p))
    lengths = [5, 3]
    pos = torch.tensor([[0, 1, 2, 3, 4], [3, 4, 5, 6, 7]])
    x = torch.randn(LB, LT, LC, requires_grad=True)
    r = torch.randn(LB, LT, LC)
    out = blk(x, pos, lengths)
    (out * r).sum().backward()
    return {
        "description": "tools/make_fixtures.py: LLaMA-style block, causal GQA + rotate-half RoPE + SwiGLU",
        "torch_version": torch.__version__,
        "config": {"channels": LC, "heads": LH, "kv_heads": LKV, "hidden": LHID, "batch": LB, "seq": LT,
                   "theta": THETA, "rms_eps": RMS_EPS},
        "lengths": lengths,
        "positions": pos.reshape(-1).tolist(),
        "x": floats(x),
        "r": floats(r),
        "params": {n: {"shape": list(p.shape), "values": floats(p)} for n, p in blk.named_parameters()},
        "out": floats(out),
        "dx": floats(x.grad),
        "grads": {n: floats(p.grad) for n, p in blk.named_parameters()},
    }


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")


def main():
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = SetModel()
    with torch.no_grad():  # non-trivial norm parameters, so loading them is tested
        for n, p in model.named_parameters():
            if "norm" in n:
                p.add_(0.1 * torch.randn_like(p))
    lengths = [6, 1, 4, 3, 5]
    ids = torch.full((B, T), -1, dtype=torch.long)
    for b, n in enumerate(lengths):
        ids[b, :n] = torch.randint(0, V, (n,))
    targets = (torch.rand(B, L) < 0.4).float()
    init = {n: {"shape": list(p.shape), "values": floats(p)} for n, p in model.named_parameters()}
    state = {n: p.detach().clone() for n, p in model.state_dict().items()}

    runs = {}
    for name in ("adam", "adamw"):
        model.load_state_dict(state)
        runs[name], first_grads = train(model, ids, targets, name)

    fixture = {
        "description": "tools/make_fixtures.py: tiny set model (embedding, 2 pre-LN blocks, mean-pool, linear, BCE)",
        "torch_version": torch.__version__,
        "config": {"vocab": V, "channels": C, "heads": H, "ffn": FFN, "layers": LAYERS, "labels": L,
                   "batch": B, "seq": T, "ln_eps": LN_EPS, "steps": STEPS, "lr": LR, "warmup": WARMUP,
                   "total_steps": TOTAL, "max_norm": MAX_NORM, "adamw_weight_decay": ADAMW_WD},
        "ids": ids.reshape(-1).tolist(),
        "lengths": lengths,
        "targets": floats(targets),
        "params": init,
        "first_grads": first_grads,  # gradients of the first step (same for both runs)
        "runs": runs,
    }
    write(OUT, fixture)
    llama = os.path.join(FIXTURES, "llama_block.json")
    write(llama, llama_block_fixture())
    print(f"wrote {llama} ({os.path.getsize(llama)} bytes)")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes); adam losses {runs['adam']['losses'][0]:.6f} -> "
          f"{runs['adam']['losses'][-1]:.6f}")


if __name__ == "__main__":
    main()
