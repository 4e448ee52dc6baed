#!/usr/bin/env python3
"""Writes a teacher-features.safetensors file (docs/teacher-features.md) from any Hugging Face causal LM,
optionally with a PEFT adapter, for the prompts written by `leader prompts --data FILE --out prompts.jsonl` (their `data_fingerprint`, which
identifies the prepared dataset, is stored in the file's metadata).

For each prompt: tokens = tokenizer(text, add_special_tokens=False), cut to the last max_tokens - 1, + EOS;
hidden = the final-norm hidden state (last element of `output_hidden_states`) at index length - 1 (from the
length, never the pad id); logits = a medication head applied to it when --head gives one (a safetensors file
with `cls_head.weight` (M, H), e.g. our teacher checkpoint or a PEFT `modules_to_save` export), else zeros.

Usage:
  python export_hf_teacher.py --model PATH_OR_NAME [--adapter PEFT_DIR] [--head FILE] --prompts prompts.jsonl \
      --out teacher-features.safetensors [--split train] [--max-tokens 256] [--batch-size 8] [--dtype float32]
Needs: torch, transformers, safetensors (+ peft for --adapter). Loads only local paths (no hub download unless
the caller passes a hub name and has network access).
"""
import argparse, json, sys

import torch
from safetensors.torch import load_file, save_file


def load_prompts(path, split):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
                rows.append((str(r["id"]), str(r["text"]), str(r.get("split", "train")), list(r.get("medications", [])),
                             str(r.get("data_fingerprint", ""))))
            except (ValueError, KeyError) as e:
                sys.exit(f"{path}:{n}: not a prompt line ({e})")
    fingerprints = {r[4] for r in rows}
    if len(fingerprints) > 1:
        sys.exit(f"{path}: prompts of more than one dataset (data_fingerprint values {sorted(fingerprints)})")
    return [r for r in rows if split == "all" or r[2] == split]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter")
    ap.add_argument("--head")
    ap.add_argument("--medications", help="JSON file with the medication keys (else from --head metadata)")
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", default="train")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    a = ap.parse_args(argv)
    if a.max_tokens < 2:
        sys.exit("--max-tokens must be >= 2")

    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForCausalLM.from_pretrained(a.model, dtype=getattr(torch, a.dtype))
    if a.adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, a.adapter)
    model.eval()
    eos = tok.eos_token_id if tok.eos_token_id is not None else model.config.eos_token_id
    if isinstance(eos, list):
        eos = eos[0]
    if eos is None:
        sys.exit("the tokenizer has no EOS token id")

    head, meds = None, []
    if a.head:
        sd = load_file(a.head)
        if "cls_head.weight" not in sd:
            sys.exit(f"{a.head}: no tensor 'cls_head.weight'")
        head = sd["cls_head.weight"].float()
        from safetensors import safe_open
        with safe_open(a.head, "pt") as f:
            meds = json.loads((f.metadata() or {}).get("medications", "[]"))
    if a.medications:
        meds = json.load(open(a.medications))
    if head is not None and meds and len(meds) != head.shape[0]:
        sys.exit(f"{len(meds)} medication keys for a head with {head.shape[0]} rows")

    prompts = load_prompts(a.prompts, a.split)
    if not prompts:
        sys.exit(f"{a.prompts}: no prompts in split '{a.split}'")
    seqs = []
    for _, text, _, _, _ in prompts:
        ids = tok(text, add_special_tokens=False)["input_ids"][-(a.max_tokens - 1):]
        seqs.append(ids + [eos])
    hidden_size = model.config.hidden_size
    m = head.shape[0] if head is not None else len(meds)
    hidden = torch.zeros(len(seqs), hidden_size)
    logits = torch.zeros(len(seqs), m)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    with torch.no_grad():
        for s in range(0, len(order), a.batch_size):
            idx = order[s:s + a.batch_size]
            t = max(len(seqs[i]) for i in idx)
            ids = torch.zeros(len(idx), t, dtype=torch.long)
            mask = torch.zeros(len(idx), t, dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, :len(seqs[i])] = torch.tensor(seqs[i])
                mask[r, :len(seqs[i])] = 1
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            h = out.hidden_states[-1].float()
            last = torch.tensor([len(seqs[i]) - 1 for i in idx])
            pooled = h[torch.arange(len(idx)), last]
            hidden[idx] = pooled
            if head is not None:
                logits[idx] = pooled @ head.T
    meta = {"format": "leader-teacher-features", "format_version": "1",
            "sample_ids": json.dumps([p[0] for p in prompts]), "medications": json.dumps(meds),
            "hidden_size": str(hidden_size), "split": a.split, "max_tokens": str(a.max_tokens),
            "base_model": str(a.model), "base_model_sha256": "", "teacher": str(a.adapter or ""),
            "pooling": "last prompt token (EOS), final norm",
            # the prepared dataset the prompts came from (`leader prompts` writes it on every line); the student
            # refuses features of another dataset. Empty for prompt files written before it existed.
            "data_fingerprint": prompts[0][4]}
    save_file({"hidden": hidden.contiguous(), "logits": logits.contiguous()}, a.out, metadata=meta)
    print(f"wrote {a.out}: {len(prompts)} samples x {hidden_size} hidden + {m} logits")


if __name__ == "__main__":
    main()
