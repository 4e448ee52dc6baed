#!/usr/bin/env python3
"""PyTorch reference of the LEADER(S) student (leader-method.md §4-5, official bugs fixed as in docs/student.md),
written in the reference code's padded layout: (B, V, S) code tensors with [PAD]=0, 4-D set encoders with
key-padding masks (-1e9 masked_fill), seq_mask over visits, the profile prompt prepended to the medication
stream and the last position dropped. Writes Tests/LeaderCoreTests/Fixtures/student_parity.json: config, the
batch (as per-patient code lists), all weights under the Swift parameter names, logits, the loss terms and every
parameter gradient (dropout off). Run: python3 tools/make_student_fixture.py (torch 2.x CPU)."""
import json, math, os
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)  # reference values in double; Swift runs float32

CFG = dict(hidden=8, heads=2, ffnHidden=12, headHidden=10, hiddenDropout=0.0, attentionDropout=0.0,
           layerNormEps=1e-12, maxVisits=10, maxCodesPerVisit=100, profilePrompt=True, alpha=0.4, beta=0.5,
           temperature=0.5, teacherDim=5, batchSize=3, seed=1)
M, D, P = 7, 9, 6
CARDS = [3, 4]
RES = 3
MED0, DIAG0, PROC0 = RES, RES + M, RES + M + D
V = RES + M + D + P
C, H = CFG["hidden"], CFG["heads"]

# Patients: diagnoses/procedures per visit (current last), history medications, profile, target medications.
PATIENTS = [
    dict(diagnoses=[[1, 4]], procedures=[[0]], medications=[], profile=[1, 2], target=[2, 5]),
    dict(diagnoses=[[0, 3, 8], [2]], procedures=[[1, 2], [5]], medications=[[0, 6]], profile=[0, 3], target=[1, 6]),
    dict(diagnoses=[[5], [6, 7], [0, 1, 2, 3]], procedures=[[], [3], [4, 5]], medications=[[3], [4, 5, 6]],
         profile=[2, 1], target=[0, 3]),
]
B = len(PATIENTS)
VMAX, S = 4, 5  # padded visits / codes (larger than needed, like the reference's 10 x 100)


class LayerNorm(nn.Module):  # reference: eps inside the sqrt
    def __init__(s, c, eps):
        super().__init__(); s.weight = nn.Parameter(torch.ones(c)); s.bias = nn.Parameter(torch.zeros(c)); s.eps = eps
    def forward(s, x):
        u = x.mean(-1, keepdim=True); v = ((x - u) ** 2).mean(-1, keepdim=True)
        return s.weight * (x - u) / torch.sqrt(v + s.eps) + s.bias


class MHA(nn.Module):
    def __init__(s):
        super().__init__()
        s.q = nn.Linear(C, C, bias=False); s.k = nn.Linear(C, C, bias=False); s.v = nn.Linear(C, C, bias=False)
        s.o = nn.Linear(C, C)
    def forward(s, x, mask):  # x (..., T, C); mask (..., T) 1 = valid key
        sh = x.shape[:-2]; T = x.shape[-2]; d = C // H
        def heads(t): return t.view(*sh, T, H, d).transpose(-2, -3)
        q, k, v = heads(s.q(x)), heads(s.k(x)), heads(s.v(x))
        sc = q @ k.transpose(-1, -2) / math.sqrt(d)
        m = mask.unsqueeze(-2).unsqueeze(-2)  # (..., 1, 1, T)
        sc = sc.masked_fill(m == 0, -1e9)
        p = torch.softmax(sc, -1)
        out = (p @ v).transpose(-2, -3).reshape(*sh, T, C)
        return s.o(out)


class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.norm1 = LayerNorm(C, CFG["layerNormEps"]); s.attn = MHA(); s.norm2 = LayerNorm(C, CFG["layerNormEps"])
        s.ffn = nn.Module(); s.ffn.fc1 = nn.Linear(C, CFG["ffnHidden"]); s.ffn.fc2 = nn.Linear(CFG["ffnHidden"], C)
    def forward(s, x, mask):
        x = x + s.attn(s.norm1(x), mask)
        return x + s.ffn.fc2(F.gelu(s.ffn.fc1(s.norm2(x)), approximate="tanh"))


def masked_mean(x, mask):  # x (..., T, C), mask (..., T)
    m = mask.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(-2) / m.sum(-2).clamp(min=1)


class Student(nn.Module):
    def __init__(s):
        super().__init__()
        s.embedding = nn.Embedding(V, C)
        s.diagnosis_encoder = Block(); s.procedure_encoder = Block(); s.medication_encoder = Block()
        s.visit_encoder = Block()
        s.profile = nn.Module()
        s.profile.embedding = nn.Embedding(sum(CARDS), C)  # == one table per field, stacked (offsets)
        s.profile.head = nn.Linear(len(CARDS) * C, C)      # the prompt's OWN head (reference bug: diag_head)
        s.head = nn.Module(); s.head.fc1 = nn.Linear(3 * C, CFG["headHidden"]); s.head.fc2 = nn.Linear(CFG["headHidden"], M)
        s.distill = nn.Module(); s.distill.projector = nn.Linear(CFG["headHidden"], CFG["teacherDim"])
        s.align = nn.Module(); s.align.x_projector = nn.Linear(C, C); s.align.y_projector = nn.Linear(C, C)

    def encode_sets(s, block, ids):  # ids (B, V, S) with 0 = PAD
        mask = (ids != 0).long()
        return masked_mean(block(s.embedding(ids), mask), mask)  # (B, V, C)

    def forward(s, batch, teacher):
        diag, proc, med, seq_mask, prof, labels, target = batch
        d = s.encode_sets(s.diagnosis_encoder, diag)
        p = s.encode_sets(s.procedure_encoder, proc)
        m = s.encode_sets(s.medication_encoder, med)
        pe = s.profile.embedding(prof).reshape(B, -1)
        prompt = s.profile.head(pe)
        m = torch.cat([prompt.unsqueeze(1), m], 1)[:, :-1]
        streams = [masked_mean(s.visit_encoder(x, seq_mask), seq_mask) for x in (d, p, m)]
        h = torch.cat(streams, -1)
        mediator = s.head.fc1(F.relu(h))
        logits = s.head.fc2(F.relu(mediator))
        bce = F.binary_cross_entropy_with_logits(logits, labels)
        kd = F.mse_loss(s.distill.projector(mediator), teacher)
        tmask = (target != 0).long()
        x = masked_mean(s.medication_encoder(s.embedding(target), tmask), tmask)
        xn = F.normalize(s.align.x_projector(x), dim=-1)
        yn = F.normalize(s.align.y_projector(prompt), dim=-1)
        lg = xn @ yn.t() / CFG["temperature"]
        ar = torch.arange(B)
        align = F.cross_entropy(lg, ar) + F.cross_entropy(lg.t(), ar)
        total = bce + CFG["alpha"] * kd + CFG["beta"] * align
        return logits, total, bce, kd, align


def pad_sets(sets_per_patient, offset, vmax):
    out = torch.zeros(B, vmax, S, dtype=torch.long)
    for b, sets in enumerate(sets_per_patient):
        for v, codes in enumerate(sets):
            for j, c in enumerate(codes):
                out[b, v, j] = offset + c
    return out


def batch():
    """The fixture patients in the reference's padded layout: (diag, proc, med, seq_mask, prof, labels, target)."""
    diag = pad_sets([p["diagnoses"] for p in PATIENTS], DIAG0, VMAX)
    proc = pad_sets([p["procedures"] for p in PATIENTS], PROC0, VMAX)
    med = pad_sets([p["medications"] for p in PATIENTS], MED0, VMAX)
    seq_mask = torch.zeros(B, VMAX, dtype=torch.long)
    for b, p in enumerate(PATIENTS):
        seq_mask[b, :len(p["diagnoses"])] = 1
    offs = [0, CARDS[0]]
    prof = torch.tensor([[offs[f] + p["profile"][f] for f in range(len(CARDS))] for p in PATIENTS])
    labels = torch.zeros(B, M)
    for b, p in enumerate(PATIENTS):
        labels[b, p["target"]] = 1
    target = torch.zeros(B, S, dtype=torch.long)
    for b, p in enumerate(PATIENTS):
        for j, c in enumerate(p["target"]):
            target[b, j] = MED0 + c  # fixed: +3 offset into the unified vocabulary
    return diag, proc, med, seq_mask, prof, labels, target


def main():
    model = Student()
    with torch.no_grad():  # non-trivial LayerNorm parameters so their gradients are tested
        for n, prm in model.named_parameters():
            if "norm" in n:
                prm.add_(0.1 * torch.randn_like(prm))
    data = batch()
    teacher = torch.randn(B, CFG["teacherDim"])
    logits, total, bce, kd, align = model(data, teacher)
    total.backward()
    r = lambda t: [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]
    out = dict(
        config=CFG, sizes=dict(medications=M, diagnoses=D, procedures=P, profileCardinalities=CARDS),
        patients=PATIENTS, teacher=r(teacher),
        params={n: dict(shape=list(p.shape), values=r(p)) for n, p in model.named_parameters()},
        grads={n: r(p.grad) for n, p in model.named_parameters()},
        logits=r(logits), loss=dict(total=total.item(), bce=bce.item(), distill=kd.item(), align=align.item()),
    )
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "LeaderCoreTests", "Fixtures", "student_parity.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes; loss", out["loss"])


if __name__ == "__main__":
    main()
