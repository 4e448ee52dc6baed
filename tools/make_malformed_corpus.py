#!/usr/bin/env python3
"""Writes Tests/LeaderCoreTests/Fixtures/malformed/: KB-sized malformed inputs for every file reader, each with the
exact error kind and message it must produce (manifest.json), read by MalformedCorpusTests.

Built from valid files by byte surgery, so each case breaks one thing:
- checkpoint (student safetensors, from Fixtures/python_student.safetensors): truncation at every section
  boundary, header length beyond the file and over the size cap, a header that is not JSON, overlapping and gapped
  data offsets, dims whose product overflows, a byte count that disagrees with dtype × shape, an unknown dtype,
  an unknown format version, NaN and Inf weights, vocabulary sizes that disagree with the tensor shapes;
- gguf (a minimal GGUF v3 written here: two tensors): truncation at every section boundary, an unknown version,
  a bad alignment, an unknown quantisation type, a tensor count beyond the file, a string length beyond the file,
  a tensor whose data lies past the end;
- ldata (a prepared dataset, Fixtures/malformed/seed.ldata written by `leader prepare`): truncation at every
  header field and in the sections, bad magic, an unknown version and flags, a checksum mismatch;
- csv (read as a loader reads a table): a missing column, an unclosed quote, a quote in an unquoted field,
  invalid UTF-8, an empty file (the field of 10^6 characters is made by the test: it would not be KB-sized).

Usage: python3 tools/make_malformed_corpus.py   (pure Python; rewrites the folder and its manifest)
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests/LeaderCoreTests/Fixtures")
OUT = os.path.join(FIX, "malformed")

cases = []   # (file, reader, kind, message, extra)

# What each reader must answer: (error kind, message after "<file>: "); kind "none": the file is read.
# Lenient on purpose: a quote inside an unquoted CSV field is kept as a character (as pandas does), and
# invalid UTF-8 is decoded with U+FFFD (such a code then matches no vocabulary or map and is counted there).
EXPECTED = {
    'ck_bytes_disagree_with_shape.safetensors': ('badFile', "tensor 'align.x_projector.bias': F32 [9] needs 36 bytes but data_offsets [0, 32] span 32"),
    'ck_dims_overflow.safetensors': ('badFile', "tensor 'align.x_projector.bias': shape [4611686018427387904, 8] × 4 bytes overflows Int"),
    'ck_gapped_offsets.safetensors': ('badFile', "tensor 'align.x_projector.weight' starts at 36: a gap of 4 bytes after offset 32"),
    'ck_header_not_json.safetensors': ('badFile', 'header is not valid safetensors JSON'),
    'ck_inf_weight.safetensors': ('badFile', "tensor 'head.fc2.weight' has non-finite values"),
    'ck_length_beyond_file.safetensors': ('badFile', 'header length 19048 exceeds the 19040 bytes after it (truncated?)'),
    'ck_length_over_cap.safetensors': ('badFile', 'header length: value 1099511627776 exceeds the limit 100000000 implied by the file size (truncated or corrupt?)'),
    'ck_nan_weight.safetensors': ('badFile', "tensor 'head.fc2.weight' has non-finite values"),
    'ck_overlapping_offsets.safetensors': ('badFile', "tensor 'align.x_projector.weight' at 28 overlaps the tensor before it (which ends at 32)"),
    'ck_trunc_after_header.safetensors': ('badFile', 'tensors need 11800 data bytes but the file has 0 (truncated?)'),
    'ck_trunc_after_length.safetensors': ('badFile', 'header length 7240 exceeds the 0 bytes after it (truncated?)'),
    'ck_trunc_in_data.safetensors': ('badFile', 'tensors need 11800 data bytes but the file has 11700 (truncated?)'),
    'ck_trunc_in_header.safetensors': ('badFile', 'header length 7240 exceeds the 3620 bytes after it (truncated?)'),
    'ck_trunc_in_length.safetensors': ('badFile', 'header length: needs 8 bytes at offset 0, file has 5 left (truncated?)'),
    'ck_unknown_dtype.safetensors': ('badFile', "tensor 'align.x_projector.bias': unknown dtype 'Q9'"),
    'ck_unknown_version.safetensors': ('incompatible', "checkpoint format_version '99' (this library reads '1')"),
    'ck_vocabulary_disagrees_with_shapes.safetensors': ('badFile', "tensor 'embedding.weight' has shape [25, 8], expected [24, 8]"),
    'csv_empty.csv': ('badFile', 'empty file, no header line'),
    'csv_invalid_utf8.csv': ('none', ''),
    'csv_missing_column.csv': ('badFile', "missing column 'hadm_id' in the header (line 1)"),
    'csv_quote_in_unquoted_field.csv': ('none', ''),
    'csv_unclosed_quote.csv': ('badFile', 'line 2, column 2: quoted field not closed before end of file'),
    'gguf_bad_alignment.gguf': ('badFile', "metadata 'general.alignment' is 3, expected a power of two"),
    'gguf_data_past_end.gguf': ('badFile', "tensor 'output_norm.weight': bytes 1048704..<1048736 of the data section lie outside it (160 bytes; truncated?)"),
    'gguf_string_length_beyond_file.gguf': ('badFile', 'metadata key #0: length: value 1125899906842624 exceeds the limit 392 implied by the file size (truncated or corrupt?)'),
    'gguf_tensor_count_beyond_file.gguf': ('badFile', 'tensor count: value 1099511627776 exceeds the limit 12 implied by the file size (truncated or corrupt?)'),
    'gguf_trunc_in_data.gguf': ('badFile', "tensor 'output_norm.weight': bytes 128..<160 of the data section lie outside it (144 bytes; truncated?)"),
    'gguf_trunc_in_header.gguf': ('badFile', 'tensor count: value 2 exceeds the limit 0 implied by the file size (truncated or corrupt?)'),
    'gguf_trunc_in_infos.gguf': ('badFile', "tensor 'output_norm.weight': offset: needs 8 bytes at offset 234, file has 3 left (truncated?)"),
    'gguf_trunc_in_kv.gguf': ('badFile', "metadata 'llama.block_count': needs 4 bytes at offset 131, file has 1 left (truncated?)"),
    'gguf_trunc_in_magic.gguf': ('badFile', 'magic: needs 4 bytes at offset 0, file has 3 left (truncated?)'),
    'gguf_unknown_quant_type.gguf': ('incompatible', "tensor 'token_embd.weight': ggml type 99 (unknown) is not supported (F32, F16, BF16, Q8_0, Q4_0, Q4_1 are)"),
    'gguf_unknown_version.gguf': ('incompatible', 'GGUF version 7 is not supported (2 and 3 are)'),
    'gguf_valid.gguf': ('none', ''),
    'ld_bad_magic.ldata': ('badFile', 'not a leader data file (bad magic)'),
    'ld_checksum_mismatch.ldata': ('badFile', 'checksum mismatch (file corrupted)'),
    'ld_trunc_12.ldata': ('badFile', 'truncated: 12 bytes, a header needs 40'),
    'ld_trunc_16.ldata': ('badFile', 'truncated: 16 bytes, a header needs 40'),
    'ld_trunc_1680.ldata': ('badFile', 'metadata length 3280 exceeds the file (1680 bytes)'),
    'ld_trunc_24.ldata': ('badFile', 'truncated: 24 bytes, a header needs 40'),
    'ld_trunc_32.ldata': ('badFile', 'truncated: 32 bytes, a header needs 40'),
    'ld_trunc_3320.ldata': ('badFile', 'truncated: header says 3928 bytes, file has 3320'),
    'ld_trunc_36.ldata': ('badFile', 'truncated: 36 bytes, a header needs 40'),
    'ld_trunc_3920.ldata': ('badFile', 'truncated: header says 3928 bytes, file has 3920'),
    'ld_trunc_4.ldata': ('badFile', 'truncated: 4 bytes, a header needs 40'),
    'ld_trunc_40.ldata': ('badFile', 'metadata length 3280 exceeds the file (40 bytes)'),
    'ld_trunc_8.ldata': ('badFile', 'truncated: 8 bytes, a header needs 40'),
    'ld_unknown_flags.ldata': ('incompatible', 'unknown header flags 4'),
    'ld_unknown_version.ldata': ('incompatible', 'format version 9, this library reads version 1'),
}



def case(name, reader, data, **extra):
    """Writes one case; its kind and message come from EXPECTED (the reader's answer, reviewed by hand)."""
    kind, message = EXPECTED[name]
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    cases.append(dict(file=name, reader=reader, kind=kind, message=message, **extra))


# ---- checkpoints ---------------------------------------------------------------------------------------------

def split_st(b):
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]


def join_st(header, data, pad=True):
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def checkpoints():
    base = open(os.path.join(FIX, "python_student.safetensors"), "rb").read()
    header, data = split_st(base)
    n = struct.unpack("<Q", base[:8])[0]
    r = "checkpoint"
    case("ck_trunc_in_length.safetensors", r, base[:5])
    case("ck_trunc_after_length.safetensors", r, base[:8])
    case("ck_trunc_in_header.safetensors", r, base[:8 + n // 2])
    case("ck_trunc_after_header.safetensors", r, base[:8 + n])
    case("ck_trunc_in_data.safetensors", r, base[:-100])
    case("ck_length_beyond_file.safetensors", r, struct.pack("<Q", len(base)) + base[8:])
    case("ck_length_over_cap.safetensors", r, struct.pack("<Q", 1 << 40) + base[8:])
    case("ck_header_not_json.safetensors", r, struct.pack("<Q", 16) + b"{not json at all" + data)

    names = [k for k in header if k != "__metadata__"]
    first = min(names, key=lambda k: header[k]["data_offsets"][0])
    second = min((k for k in names if k != first), key=lambda k: header[k]["data_offsets"][0])

    h = json.loads(json.dumps(header))
    s0, e0 = h[second]["data_offsets"]
    h[second]["data_offsets"] = [s0 - 4, e0 - 4]            # overlaps the first tensor
    case("ck_overlapping_offsets.safetensors", r, join_st(h, data))

    h = json.loads(json.dumps(header))
    for k in names:                                          # a 4-byte hole after the first tensor
        s, e = h[k]["data_offsets"]
        if s >= header[second]["data_offsets"][0]:
            h[k]["data_offsets"] = [s + 4, e + 4]
    case("ck_gapped_offsets.safetensors", r, join_st(h, data[:header[second]["data_offsets"][0]] + b"\0" * 4
                                                  + data[header[second]["data_offsets"][0]:]))

    h = json.loads(json.dumps(header))
    h[first]["shape"] = [1 << 62, 8]
    case("ck_dims_overflow.safetensors", r, join_st(h, data))

    h = json.loads(json.dumps(header))
    s, e = h[first]["data_offsets"]
    h[first]["shape"] = [(e - s) // 4 + 1]
    case("ck_bytes_disagree_with_shape.safetensors", r, join_st(h, data))

    h = json.loads(json.dumps(header))
    h[first]["dtype"] = "Q9"
    case("ck_unknown_dtype.safetensors", r, join_st(h, data))

    h = json.loads(json.dumps(header))
    h["__metadata__"]["format_version"] = "99"
    case("ck_unknown_version.safetensors", r, join_st(h, data))

    for tag, value in (("nan", float("nan")), ("inf", float("inf"))):
        s, _ = header["head.fc2.weight"]["data_offsets"]
        d = bytearray(data)
        d[s:s + 4] = struct.pack("<f", value)
        case(f"ck_{tag}_weight.safetensors", r, join_st(header, bytes(d)))

    h = json.loads(json.dumps(header))
    vocab = json.loads(h["__metadata__"]["vocabularies"])
    vocab["medications"]["keys"].pop()
    vocab["medications"]["titles"].pop()
    h["__metadata__"]["vocabularies"] = json.dumps(vocab, sort_keys=True)
    case("ck_vocabulary_disagrees_with_shapes.safetensors", r, join_st(h, data))


# ---- GGUF ----------------------------------------------------------------------------------------------------

def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(version=3, alignment=32, qtype=0, tensor_count=None, string_len=None, offset_shift=0):
    """A minimal GGUF: a few metadata keys and two F32 tensors (token_embd 4x8, output_norm 8)."""
    kvs = [("general.architecture", 8, gstr("llama")), ("general.alignment", 4, struct.pack("<I", alignment)),
           ("llama.block_count", 4, struct.pack("<I", 0))]
    kv = b""
    for i, (k, t, v) in enumerate(kvs):
        key = gstr(k) if not (string_len is not None and i == 0) else struct.pack("<Q", string_len) + k.encode()
        kv += key + struct.pack("<I", t) + v
    tensors = [("token_embd.weight", [8, 4], qtype), ("output_norm.weight", [8], 0)]
    infos, offset = b"", 0
    sizes = []
    for name, dims, t in tensors:
        infos += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<I", t) + struct.pack("<Q", offset + (offset_shift if name == "output_norm.weight" else 0))
        n = 4
        for d in dims:
            n *= d
        sizes.append(n)
        offset += n + (-n % 32)
    head = b"GGUF" + struct.pack("<I", version) + struct.pack("<QQ", tensor_count if tensor_count is not None
                                                               else len(tensors), len(kvs))
    body = head + kv + infos
    body += b"\0" * (-len(body) % 32)
    sections = {"header": len(head), "kv": len(head) + len(kv), "infos": len(head) + len(kv) + len(infos)}
    data = b"".join(struct.pack("<f", 0.5) * (n // 4) + b"\0" * (-n % 32) for n in sizes)
    return body + data, sections


def ggufs():
    r = "gguf"
    good, sec = gguf()
    case("gguf_valid.gguf", r, good)
    case("gguf_trunc_in_magic.gguf", r, good[:3])
    case("gguf_trunc_in_header.gguf", r, good[:sec["header"] - 4])
    case("gguf_trunc_in_kv.gguf", r, good[:sec["kv"] - 3])
    case("gguf_trunc_in_infos.gguf", r, good[:sec["infos"] - 5])
    case("gguf_trunc_in_data.gguf", r, good[:-16])
    case("gguf_unknown_version.gguf", r, gguf(version=7)[0])
    case("gguf_bad_alignment.gguf", r, gguf(alignment=3)[0])
    case("gguf_unknown_quant_type.gguf", r, gguf(qtype=99)[0])
    case("gguf_tensor_count_beyond_file.gguf", r, gguf(tensor_count=1 << 40)[0])
    case("gguf_string_length_beyond_file.gguf", r, gguf(string_len=1 << 50)[0])
    case("gguf_data_past_end.gguf", r, gguf(offset_shift=1 << 20)[0])


# ---- .ldata --------------------------------------------------------------------------------------------------

def ldatas():
    r = "ldata"
    base = open(os.path.join(OUT, "seed.ldata"), "rb").read()
    m = struct.unpack("<Q", base[16:24])[0]
    for cut in (4, 8, 12, 16, 24, 32, 36, 40, 40 + m // 2, 40 + m, len(base) - 8):
        case(f"ld_trunc_{cut}.ldata", r, base[:cut])
    case("ld_bad_magic.ldata", r, b"LEADERDX" + base[8:])
    case("ld_unknown_version.ldata", r, base[:8] + struct.pack("<I", 9) + base[12:])
    case("ld_unknown_flags.ldata", r, base[:12] + struct.pack("<I", 4) + base[16:])
    flipped = bytearray(base)
    flipped[40 + m + 9] ^= 0x10
    case("ld_checksum_mismatch.ldata", r, bytes(flipped))


# ---- CSV -----------------------------------------------------------------------------------------------------

def csvs():
    r = "csv"
    cols = ["subject_id", "hadm_id"]
    case("csv_missing_column.csv", r, b"subject_id,admittime\n1,2150-01-01\n", columns=cols)
    case("csv_unclosed_quote.csv", r, b"subject_id,hadm_id\n1,\"10\n2,20\n", columns=cols)
    case("csv_quote_in_unquoted_field.csv", r, b"subject_id,hadm_id\n1,1\"0\n", columns=cols)
    case("csv_invalid_utf8.csv", r, b"subject_id,hadm_id\n1,\xff\xfe10\n", columns=cols)
    case("csv_empty.csv", r, b"", columns=cols)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f not in ("seed.ldata",):
            os.remove(os.path.join(OUT, f))
    checkpoints()
    ggufs()
    ldatas()
    csvs()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print(len(cases), "cases in", OUT)
