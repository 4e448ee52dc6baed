#!/usr/bin/env python3
"""Rewrite a GGUF with its quantised weights in another block format (default Q8_0), for benchmarks.

    python3 bench/requant_gguf.py IN.gguf OUT.gguf [--type Q8_0]

Every tensor stored in a block format (Q4_0, Q4_1, Q8_0, ...) is dequantised with the `gguf` package and quantised
again to --type; F32/F16 tensors and every metadata key are copied as they are. The result has the same model at
the new format's precision on top of the source's rounding (so it is no better than the source: for speed
comparisons on the same shapes, e.g. against llama.cpp's repacked Q8_0 kernels, not for accuracy).
"""
import argparse
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, quants

FLOAT_TYPES = {GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.BF16}
SKIP = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count"}   # the writer sets these
SCALARS = {GGUFValueType.UINT8, GGUFValueType.INT8, GGUFValueType.UINT16, GGUFValueType.INT16,
           GGUFValueType.UINT32, GGUFValueType.INT32, GGUFValueType.FLOAT32, GGUFValueType.UINT64,
           GGUFValueType.INT64, GGUFValueType.FLOAT64, GGUFValueType.BOOL}


def field_value(field):
    """A reader field as (value, type, sub_type) for GGUFWriter.add_key_value."""
    kind = field.types[0]
    if kind == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8"), kind, None
    if kind in SCALARS:
        return field.parts[field.data[0]].tolist()[0], kind, None
    if kind == GGUFValueType.ARRAY:
        sub = field.types[1]
        if sub == GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data], kind, sub
        return [field.parts[i].tolist()[0] for i in field.data], kind, sub
    raise ValueError(f"field {field.name}: value type {kind} not handled")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--type", default="Q8_0", help="target block format (a GGMLQuantizationType name)")
    a = ap.parse_args()
    target = GGMLQuantizationType[a.type]
    reader = GGUFReader(a.src)
    arch = field_value(reader.fields["general.architecture"])[0]
    writer = GGUFWriter(a.dst, arch)
    for name, field in reader.fields.items():
        if name in SKIP or name == "general.architecture":
            continue
        value, kind, sub = field_value(field)
        writer.add_key_value(name, value, kind, sub_type=sub)
    changed = 0
    for t in reader.tensors:
        if t.tensor_type in FLOAT_TYPES:
            writer.add_tensor(t.name, np.array(t.data), raw_dtype=t.tensor_type)
            continue
        values = quants.dequantize(np.array(t.data), t.tensor_type)
        if t.tensor_type != target:
            changed += 1
        data = quants.quantize(values.astype(np.float32), target)
        writer.add_tensor(t.name, data, raw_shape=data.shape, raw_dtype=target)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"{a.dst}: {len(reader.tensors)} tensors, {changed} requantised to {a.type}", file=sys.stderr)


if __name__ == "__main__":
    main()
