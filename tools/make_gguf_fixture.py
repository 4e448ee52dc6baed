#!/usr/bin/env python3
"""Writes small GGUF files for the GGUF reader tests, with the `gguf` package's writer:

- Fixtures/gguf/types.gguf: one tensor of each supported type (F32, F16, BF16, Q8_0, Q4_0, Q4_1; 1-D, 2-D
  and 3-D), metadata of every GGUF value type (scalars, strings, arrays of numbers / bools / strings, an
  empty array, a nested array) and `general.alignment` = 64. Fixtures/gguf/types.json has the expected
  metadata, dims, types and the hex of every tensor's bytes.
- Fixtures/gguf/tiny_llama.gguf: a 2-layer llama (d 64, 4 heads, 2 KV heads, FFN 96, tied embeddings) with
  the tiny tokenizer of Fixtures/tiny_llama/tokenizer.json (run tools/make_tiny_llama.py first): Q8_0
  embedding, Q4_1 / Q4_0 linear weights, F32 norms, like the SmolLM2 file at 1/1000 the size.

Usage: python tools/make_gguf_fixture.py      Needs: pip install gguf numpy
"""
import json, os

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures")
OUT = os.path.join(FIX, "gguf")


def add_tensor(w, name, values, qtype):
    data = gguf.quants.quantize(values.astype(np.float32), qtype)
    w.add_tensor(name, data, raw_dtype=qtype)
    return data


def types_file():
    rng = np.random.default_rng(5)
    path = os.path.join(OUT, "types.gguf")
    w = gguf.GGUFWriter(path, "test")
    w.add_custom_alignment(64)
    meta = {
        "test.u8": (200, V.UINT8), "test.i8": (-100, V.INT8), "test.u16": (60000, V.UINT16),
        "test.i16": (-30000, V.INT16), "test.u32": (4000000000, V.UINT32), "test.i32": (-2000000000, V.INT32),
        "test.f32": (1.5, V.FLOAT32), "test.bool": (True, V.BOOL), "test.string": ("héllo, wörld 🙂", V.STRING),
        "test.u64": (2**63 + 5, V.UINT64), "test.i64": (-(2**62), V.INT64), "test.f64": (-2.25e-300, V.FLOAT64),
    }
    for k, (v, t) in meta.items():
        w.add_key_value(k, v, t)
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_array("test.arr_f32", [0.5, -1.25])
    w.add_array("test.arr_bool", [True, False, True])
    w.add_array("test.arr_str", ["a", "", "b c", "Ġ日本"])
    w.add_array("test.arr_nested", [[1, 2], [3]])
    tensors = {
        "f32.vec": (rng.standard_normal(5), Q.F32),
        "f32.cube": (rng.standard_normal((2, 3, 4)), Q.F32),
        "f16.mat": (rng.standard_normal((3, 5)), Q.F16),
        "bf16.mat": (rng.standard_normal((2, 7)), Q.BF16),
        "q8_0.mat": (rng.standard_normal((2, 64)), Q.Q8_0),
        "q4_0.mat": (rng.standard_normal((3, 32)), Q.Q4_0),
        "q4_1.mat": (rng.standard_normal((2, 64)), Q.Q4_1),
    }
    expected = {"alignment": 64, "metadata": {}, "tensors": []}
    for name, (values, qtype) in tensors.items():
        data = add_tensor(w, name, values, qtype)
        expected["tensors"].append({"name": name, "type": qtype.name, "dims": list(reversed(values.shape)),
                                    "hex": data.tobytes().hex()})
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = gguf.GGUFReader(path)
    for k, (v, t) in meta.items():
        expected["metadata"][k] = {"type": t.name, "value": v}
    expected["metadata"]["test.arr_i32"] = {"type": "ARRAY", "value": [1, -2, 3]}
    expected["metadata"]["test.arr_str"] = {"type": "ARRAY", "value": ["a", "", "b c", "Ġ日本"]}
    expected["data_offset"] = int(r.data_offset)
    expected["kv_count"] = sum(1 for k in r.fields if not k.startswith("GGUF."))
    with open(os.path.join(OUT, "types.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    print("wrote", path, os.path.getsize(path), "bytes")


def tiny_llama_file():
    tj = json.load(open(os.path.join(FIX, "tiny_llama/tokenizer.json")))
    vocab = dict(tj["model"]["vocab"])
    for a in tj["added_tokens"]:
        vocab[a["content"]] = a["id"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert len(tokens) == max(vocab.values()) + 1
    merges = [" ".join(m) if isinstance(m, list) else m for m in tj["model"]["merges"]]
    special = {a["id"] for a in tj["added_tokens"]}
    path = os.path.join(OUT, "tiny_llama.gguf")
    w = gguf.GGUFWriter(path, "llama")
    d, ffn, nh, nkv, layers = 64, 96, 4, 2, 2
    w.add_block_count(layers)
    w.add_context_length(256)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ffn)
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(d // nh)
    w.add_vocab_size(len(tokens))
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types([3 if i in special else 1 for i in range(len(tokens))])
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(0)
    w.add_add_bos_token(False)
    rng = np.random.default_rng(7)
    hd = d // nh
    add_tensor(w, "token_embd.weight", rng.standard_normal((len(tokens), d)) * 0.1, Q.Q8_0)
    for l in range(layers):
        p = f"blk.{l}."
        add_tensor(w, p + "attn_norm.weight", 1 + 0.1 * rng.standard_normal(d), Q.F32)
        add_tensor(w, p + "attn_q.weight", rng.standard_normal((nh * hd, d)) * 0.1, Q.Q4_1)
        add_tensor(w, p + "attn_k.weight", rng.standard_normal((nkv * hd, d)) * 0.1, Q.Q4_1)
        add_tensor(w, p + "attn_v.weight", rng.standard_normal((nkv * hd, d)) * 0.1, Q.Q4_0)
        add_tensor(w, p + "attn_output.weight", rng.standard_normal((d, nh * hd)) * 0.1, Q.Q4_1)
        add_tensor(w, p + "ffn_norm.weight", 1 + 0.1 * rng.standard_normal(d), Q.F32)
        add_tensor(w, p + "ffn_gate.weight", rng.standard_normal((ffn, d)) * 0.1, Q.Q4_1)
        add_tensor(w, p + "ffn_up.weight", rng.standard_normal((ffn, d)) * 0.1, Q.Q4_1)
        add_tensor(w, p + "ffn_down.weight", rng.standard_normal((d, ffn)) * 0.1, Q.Q8_0)
    add_tensor(w, "output_norm.weight", 1 + 0.1 * rng.standard_normal(d), Q.F32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    types_file()
    tiny_llama_file()
