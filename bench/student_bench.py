#!/usr/bin/env python3
"""Student speed, leader vs PyTorch CPU in the same run (docs/benchmarks-student.md).

PyTorch runs the same architecture (tools/make_student_fixture.py's model, parameterised) in the reference's
padded layout, padded only to the batch maximum (visits and codes) — fairer to PyTorch than the reference's
fixed 10 x 100. PyTorch's batch packing (Python) is done before its timers start; leader's timings include
packing. Same sizes and distribution as `leader bench student`: |Med| 131, |Diag| 1958, |Proc| 1430,
1..10 visits, 1..40 codes per set, batch 16, dropout on in training, alignment term on (beta 0.005).

Usage: python3 bench/student_bench.py [--leader .build/release/leader-cli] [--steps 30] [--precisions fp32,bf16]
"""
import argparse, json, math, random, subprocess, time
import torch
import torch.nn as nn
import torch.nn.functional as F

M, D, P = 131, 1958, 1430
CARDS = [5, 40, 20, 6, 40, 3, 9]
C, H, FF, HH = 64, 4, 300, 128
RES = 3


class LayerNorm(nn.Module):
    def __init__(s):
        super().__init__(); s.w = nn.Parameter(torch.ones(C)); s.b = nn.Parameter(torch.zeros(C))
    def forward(s, x):
        u = x.mean(-1, keepdim=True); v = ((x - u) ** 2).mean(-1, keepdim=True)
        return s.w * (x - u) / torch.sqrt(v + 1e-12) + s.b


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.n1, s.n2 = LayerNorm(), LayerNorm()
        s.q = nn.Linear(C, C, bias=False); s.k = nn.Linear(C, C, bias=False); s.v = nn.Linear(C, C, bias=False)
        s.o = nn.Linear(C, C); s.f1 = nn.Linear(C, FF); s.f2 = nn.Linear(FF, C)
        s.d = nn.Dropout(0.4); s.ad = nn.Dropout(0.1)
    def attn(s, x, mask):
        sh, T, d = x.shape[:-2], x.shape[-2], C // H
        h = lambda t: t.view(*sh, T, H, d).transpose(-2, -3)
        q, k, v = h(s.q(x)), h(s.k(x)), h(s.v(x))
        sc = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        sc = sc.masked_fill(mask.unsqueeze(-2).unsqueeze(-2) == 0, -1e9)
        return s.o((s.ad(torch.softmax(sc, -1)) @ v).transpose(-2, -3).reshape(*sh, T, C))
    def forward(s, x, mask):
        x = x + s.d(s.attn(s.n1(x), mask))
        x = x + s.d(s.f2(s.d(F.gelu(s.f1(s.n2(x)), approximate="tanh"))))
        return s.d(x)


def mmean(x, m):
    m = m.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(-2) / m.sum(-2).clamp(min=1)


class Student(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(RES + M + D + P, C)
        s.dt, s.pt, s.mt, s.vt = Block(), Block(), Block(), Block()
        s.pe = nn.Embedding(sum(CARDS), C); s.ph = nn.Linear(len(CARDS) * C, C)
        s.fc1 = nn.Linear(3 * C, HH); s.fc2 = nn.Linear(HH, M)
        s.xp = nn.Linear(C, C); s.yp = nn.Linear(C, C)
    def sets(s, blk, ids):
        m = (ids != 0).long()
        return mmean(blk(s.emb(ids), m), m)
    def forward(s, b, train=True):
        diag, proc, med, seq_mask, prof, labels, target = b
        B = diag.shape[0]
        d, p, m = s.sets(s.dt, diag), s.sets(s.pt, proc), s.sets(s.mt, med)
        prompt = s.ph(s.pe(prof).reshape(B, -1))
        m = torch.cat([prompt.unsqueeze(1), m], 1)[:, :-1]
        h = torch.cat([mmean(s.vt(x, seq_mask), seq_mask) for x in (d, p, m)], -1)
        logits = s.fc2(F.relu(s.fc1(F.relu(h))))
        if not train:
            return torch.sigmoid(logits)
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        tm = (target != 0).long()
        xn = F.normalize(s.xp(mmean(s.mt(s.emb(target), tm), tm)), dim=-1)
        yn = F.normalize(s.yp(prompt), dim=-1)
        lg = xn @ yn.t(); ar = torch.arange(B)
        return loss + 0.005 * (F.cross_entropy(lg, ar) + F.cross_entropy(lg.t(), ar))


UNIFORM = False


def patients(n, seed):
    """Same distributions as `leader bench student` (see benchExamples there); Python's RNG, not SplitMix64."""
    r = random.Random(seed)
    st = lambda vocab, mx: sorted(set(r.randrange(vocab) for _ in range(1 + r.randrange(min(mx, 40)))))
    out = []
    for _ in range(n):
        if UNIFORM:
            v = 1 + r.randrange(10); nd = np_ = nm = 40
        else:
            v = 1
            while v < 10 and r.randrange(100) >= 42:
                v += 1
            nd, np_, nm = 21, 6, 29
        out.append(dict(d=[st(D, nd) for _ in range(v)], p=[st(P, np_) for _ in range(v)],
                        m=[st(M, nm) for _ in range(v - 1)], prof=[r.randrange(c) for c in CARDS], t=st(M, nm)))
    return out


def pack(ps):
    B = len(ps); V = max(len(p["d"]) for p in ps)
    S = max(1, max(len(s) for p in ps for k in ("d", "p", "m") for s in p[k]))
    def grid(key, off):
        g = torch.zeros(B, V, S, dtype=torch.long)
        for b, p in enumerate(ps):
            for v, s in enumerate(p[key]):
                g[b, v, :len(s)] = torch.tensor(s) + off
        return g
    seq = torch.zeros(B, V, dtype=torch.long)
    for b, p in enumerate(ps):
        seq[b, :len(p["d"])] = 1
    offs = [sum(CARDS[:i]) for i in range(len(CARDS))]
    prof = torch.tensor([[offs[i] + x for i, x in enumerate(p["prof"])] for p in ps])
    lab = torch.zeros(B, M)
    T = max(len(p["t"]) for p in ps)
    tgt = torch.zeros(B, T, dtype=torch.long)
    for b, p in enumerate(ps):
        lab[b, p["t"]] = 1; tgt[b, :len(p["t"])] = torch.tensor(p["t"]) + RES
    return grid("d", RES + M), grid("p", RES + M + D), grid("m", RES), seq, prof, lab, tgt


def bench_torch(steps, batch):
    torch.manual_seed(0)
    out = {}
    torch.set_num_threads(1)
    model = Student(); opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    data = patients(batch * (steps + 3), 1)
    packed = [pack(data[s * batch:(s + 1) * batch]) for s in range(steps + 3)]  # packing NOT timed for PyTorch
    tt = 0.0
    model.train()
    for s in range(steps + 3):
        t0 = time.perf_counter()
        b = packed[s]
        opt.zero_grad(); loss = model(b); loss.backward(); opt.step()
        if s >= 3:
            tt += time.perf_counter() - t0
    out["trainSamplesPerSecond"] = batch * steps / tt
    model.eval()
    lat = []
    with torch.inference_mode():
        for i, p in enumerate(patients(310, 2)):
            b = pack([p])
            t0 = time.perf_counter(); model(b, train=False); dt = time.perf_counter() - t0
            if i >= 10:
                lat.append(dt)
        lat.sort()
        out["singlePatientP50Microseconds"] = lat[len(lat) // 2] * 1e6
        torch.set_num_threads(2)
        many = patients(256 * 8, 3)
        batches = [pack(many[k * 256:(k + 1) * 256]) for k in range(8)]
        model(batches[0], train=False)
        t0 = time.perf_counter()
        for b in batches:
            model(b, train=False)
        out["batchInferencePatientsPerSecond"] = 256 * 8 / (time.perf_counter() - t0)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leader", default=".build/release/leader-cli")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--uniform", action="store_true", help="worst-case uniform distribution")
    ap.add_argument("--precisions", default="fp32,bf16", help="leader's inference precisions to run (fp32, bf16)")
    a = ap.parse_args()
    global UNIFORM
    UNIFORM = a.uniform
    cmd = [a.leader, "bench", "student", "--json", "--steps", str(a.steps), "--batch", str(a.batch)]
    ours = {}
    for p in a.precisions.split(","):   # leader first, PyTorch right after, in the same run
        ours[p] = json.loads(subprocess.run(cmd + ["--precision", p] + (["--uniform"] if a.uniform else []),
                                            check=True, capture_output=True, text=True).stdout)
    theirs = bench_torch(a.steps, a.batch)
    print(f"torch {torch.__version__}, distribution {'uniform' if a.uniform else 'mimic'}, threads: train 1, single patient 1, batch inference 2")
    print(f"{'metric':40s} {'precision':>9s} {'leader':>12s} {'pytorch':>12s} {'ratio':>8s}")
    for p, o in ours.items():
        for k, better in [("trainSamplesPerSecond", "higher"), ("singlePatientP50Microseconds", "lower"),
                          ("batchInferencePatientsPerSecond", "higher")]:
            r = o[k] / theirs[k] if better == "higher" else theirs[k] / o[k]
            print(f"{k:40s} {p:>9s} {o[k]:12.1f} {theirs[k]:12.1f} {r:7.2f}x")
    print(json.dumps(dict(leader=ours, pytorch=theirs)))


if __name__ == "__main__":
    main()
