#!/usr/bin/env python3
"""Writes Tests/LeaderCoreTests/Fixtures/teacher/hf_features.safetensors (+ hf_features.json): a teacher-features
file made by bindings/python/tools/export_hf_teacher.py (the Python exporter, run as a library) on the tiny
random HF LLaMA (Fixtures/tiny_llama, tools/make_tiny_llama.py) with the medication head of
Fixtures/teacher/lora_tiny.safetensors, for six prompt lines in the format of `leader prompts` (ids, splits and a
data_fingerprint). KB-sized. The .json holds what the Swift reader must find: the ids, the fingerprint, the
exact float32 values of the first hidden row and of the first logits row, and per-row sums.

Usage: python tools/make_hf_features_fixture.py
Needs: pip install "torch==2.13.0+cpu" transformers safetensors
"""
import json, os, sys, tempfile

from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures")
OUT = os.path.join(FIX, "teacher", "hf_features.safetensors")
sys.path.insert(0, os.path.join(ROOT, "bindings/python/tools"))
import export_hf_teacher  # noqa: E402

FINGERPRINT = "crc32:0badf00d/patients:6/samples:6"
PROMPTS = [
    ("101:1001", "train", "The patient has 1 times ICU visits. In this visit, he has diagnosis: Hypertension NOS."),
    ("102:1002", "train", "The patient has 2 times ICU visits. In this visit, she has diagnosis: Atrial fibrillation; "
                          "procedures: Venous catheterization."),
    ("103:1005", "validation", "In this visit, he has diagnosis: Acute kidney failure."),
    ("104:1007", "train", "The patient was prescribed aspirin & metformin <daily> \"as needed\"."),
    ("105:1010", "test", "Diagnosis: type 2 diabetes mellitus. Then, the patient should be prescribed: "),
    ("106:1011", "train", "x"),
]
MEDICATIONS = ["A01A", "A02B", "A06A", "B01A", "C01D", "C03C", "C07A", "N02B", "N05B", "R03A"]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        prompts = os.path.join(tmp, "prompts.jsonl")
        with open(prompts, "w", encoding="utf-8") as f:
            for pid, split, text in PROMPTS:
                f.write(json.dumps({"id": pid, "split": split, "text": text, "tokens": 0, "medications": [],
                                    "data_fingerprint": FINGERPRINT}) + "\n")
        meds = os.path.join(tmp, "medications.json")
        with open(meds, "w") as f:
            json.dump(MEDICATIONS, f)
        export_hf_teacher.main(["--model", os.path.join(FIX, "tiny_llama"),
                                "--head", os.path.join(FIX, "teacher", "lora_tiny.safetensors"),
                                "--medications", meds, "--prompts", prompts, "--out", OUT, "--split", "all",
                                "--max-tokens", "24", "--batch-size", "4"])
    t = load_file(OUT)
    h, l = t["hidden"], t["logits"]
    exp = {"sample_ids": [p[0] for p in PROMPTS], "data_fingerprint": FINGERPRINT, "medications": MEDICATIONS,
           "hidden_shape": list(h.shape), "logits_shape": list(l.shape),
           "hidden_row0": [float(v) for v in h[0]], "logits_row0": [float(v) for v in l[0]],
           "hidden_row_sums": [float(v) for v in h.double().sum(1)],
           "logits_row_sums": [float(v) for v in l.double().sum(1)]}
    with open(os.path.join(FIX, "teacher", "hf_features.json"), "w") as f:
        json.dump(exp, f, indent=1)
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
