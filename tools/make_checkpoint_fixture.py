#!/usr/bin/env python3
"""A student checkpoint written by Python's `safetensors` (torch weights of the parity model in
make_student_fixture.py), read by CheckpointStudentTests: Tests/LeaderCoreTests/Fixtures/python_student.safetensors,
and beside it python_student_expected.json: every tensor's shape and values as torch holds them, and the logits
of torch's forward on the parity fixture's patients (float64 over the float32 weights), so that the Swift side
checks each value in place and the model the checkpoint makes, not just names and sums.
Run: python3 tools/make_checkpoint_fixture.py (pip install safetensors torch)."""
import json, os, sys
sys.path.insert(0, os.path.dirname(__file__))
import torch
from safetensors.torch import save_file
import make_student_fixture as f

torch.manual_seed(3)
model = f.Student().float()
tensors = {n: p.detach().contiguous() for n, p in model.named_parameters()}
cfg = dict(f.CFG)
vocab = dict(
    medications=dict(keys=["A%02d" % i for i in range(f.M)], titles=["med %d" % i for i in range(f.M)]),
    diagnoses=dict(keys=["D%02d" % i for i in range(f.D)], titles=["diagnosis %d" % i for i in range(f.D)]),
    procedures=dict(keys=["P%02d" % i for i in range(f.P)], titles=["procedure %d" % i for i in range(f.P)]),
)
profile = dict(fields=[dict(name="insurance", values=["unknown", "Medicare", "Private"]),
                       dict(name="age", values=["unknown", "18-29", "30-39", "40-49"])])
meta = {
    "format": "leader", "format_version": "1", "kind": "student",
    "config": json.dumps(cfg, sort_keys=True), "vocabularies": json.dumps(vocab, sort_keys=True),
    "profile": json.dumps(profile, sort_keys=True),
    "thresholds": json.dumps(dict(configured=0.3, bestValidationJaccard=0.25)),
    "provenance": json.dumps(dict(libraryVersion="python-fixture", dataFingerprint="none", source="fixture",
                                  epochs=0, bestEpoch=0, bestValidationPRAUC=0.0)),
}
path = os.path.join(os.path.dirname(__file__), "..", "Tests", "LeaderCoreTests", "Fixtures", "python_student.safetensors")
save_file(tensors, path, metadata=meta)
with torch.no_grad():
    logits = model.double()(f.batch(), torch.zeros(f.B, f.CFG["teacherDim"]))[0]
expected = dict(tensors={n: dict(shape=list(t.shape), values=t.reshape(-1).tolist()) for n, t in tensors.items()},
                patients=f.PATIENTS, logits=[float("%.9g" % v) for v in logits.reshape(-1).tolist()])
with open(path.replace(".safetensors", "_expected.json"), "w") as fh:
    json.dump(expected, fh, sort_keys=True, separators=(",", ":"))
print(path, os.path.getsize(path))
