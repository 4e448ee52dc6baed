#!/usr/bin/env python3
"""Writes Tests/LeaderCoreTests/Fixtures/tiny_llama/: a tiny random LLaMA in Hugging Face format
(config.json, two safetensors shards + model.safetensors.index.json, tokenizer.json) and
tiny_llama_expected.json (config values, every tensor's dtype, shape, first values and sum) for the HF folder
reader, plus tokenizer/tiny_prompts.json (ids from `tokenizers`) for the tokenizer.json reader.

The tokenizer is a byte-level BPE trained here on a few clinical sentences (vocab 300: 3 special tokens, the
256 byte symbols, 41 merges), with SmolLM2's pre-tokenizer (Digits(individual) + ByteLevel).
Weights are saved by `save_pretrained` in float16 (sharded), then the two norm tensors of layer 1 are
rewritten as float32 and the embedding as bfloat16, so the reader meets all three dtypes.

Usage: python tools/make_tiny_llama.py      Needs: pip install "torch==2.13.0+cpu" transformers tokenizers safetensors
"""
import json, os, shutil

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures")
OUT = os.path.join(FIX, "tiny_llama")

CORPUS = [
    "The patient has 2 times ICU visits.", "In this visit, he has diagnosis: Hypertension NOS, Diabetes mellitus "
    "without complication; procedures: Venous catheterization.", "The patient was prescribed drugs: N02B, A02B.",
    "The patient's insurance is Medicare.", "Then, the patient should be prescribed: ",
    "Acute kidney failure, unspecified; Congestive heart failure; Atrial fibrillation.",
]


def make_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS * 20, trainer)
    return tok


def main():
    torch.manual_seed(5)
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    tok = make_tokenizer()
    vocab = tok.get_vocab_size()
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
    model = LlamaForCausalLM(cfg).to(torch.float16)
    with torch.no_grad():  # norms are ones at init: make them informative
        for n, p in model.named_parameters():
            if "norm" in n:
                p.copy_(1 + 0.1 * torch.randn_like(p))
    model.save_pretrained(OUT, safe_serialization=True, max_shard_size="80KB")
    tok.save(os.path.join(OUT, "tokenizer.json"))

    # Mixed dtypes: layer-1 norms as F32, embedding as BF16 (rewrite the shards that hold them).
    index = json.load(open(os.path.join(OUT, "model.safetensors.index.json")))
    retype = {"model.layers.1.input_layernorm.weight": torch.float32,
              "model.layers.1.post_attention_layernorm.weight": torch.float32,
              "model.embed_tokens.weight": torch.bfloat16}
    for shard in sorted(set(index["weight_map"].values())):
        path = os.path.join(OUT, shard)
        ts = load_file(path)
        ts = {k: (v.to(retype[k]) if k in retype else v).contiguous() for k, v in ts.items()}
        save_file(ts, path, metadata={"format": "pt"})

    expected = {"config": {"layers": 2, "d_model": 64, "ffn": 96, "heads": 4, "kv_heads": 2, "head_dim": 16,
                           "vocab": vocab, "context": 256, "rope_theta": 10000.0, "rms_eps": 1e-5, "tied": True},
                "tensors": {}}
    for shard in sorted(set(index["weight_map"].values())):
        for k, v in load_file(os.path.join(OUT, shard)).items():
            f = v.float().flatten()
            expected["tensors"][k] = {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                                      "first": [float(x) for x in f[:4]], "sum": float(f.double().sum()),
                                      "shard": shard}
    with open(os.path.join(FIX, "tiny_llama_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)

    texts = CORPUS + ["The patient's 3 visits: 2019-01-02 and 12/05.", "  spaces  \n\n new lines\t tabs",
                      "<|im_start|>user\nHello<|im_end|>", "naïve café 🙂 ½", "unknown words xyzzy QQQ", ""]
    entries = []
    for t in texts:
        tok.encode_special_tokens = False
        a = tok.encode(t, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        b = tok.encode(t, add_special_tokens=False).ids
        e = {"text": t, "ids": a}
        if a != b:
            e["ids_specials_as_text"] = b
        entries.append(e)
    os.makedirs(os.path.join(FIX, "tokenizer"), exist_ok=True)
    with open(os.path.join(FIX, "tokenizer/tiny_prompts.json"), "w") as f:
        json.dump({"prompts": entries}, f, ensure_ascii=False, indent=0)
    total = sum(os.path.getsize(os.path.join(OUT, x)) for x in os.listdir(OUT))
    print("wrote", OUT, sorted(os.listdir(OUT)), total, "bytes; vocab", vocab)


if __name__ == "__main__":
    main()
