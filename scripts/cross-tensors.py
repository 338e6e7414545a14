#!/usr/bin/env python3
"""Small ONNX TensorProto helpers for the board tests (scripts/cross-build.sh), standard library only.

  cross-tensors.py make-input MODEL.onnx OUT.pb [--seed N] [--batch N]
      Writes a deterministic pseudo-random fp32 tensor for the model's first graph input (one that is
      not an initializer); symbolic dimensions become 1 (the first: --batch). Values are uniform in [0, 1).
  cross-tensors.py compare A.pb B.pb [--atol 1e-5]
      Exits 0 when both tensors have the same type and shape and every element differs by <= atol.
"""
import argparse
import math
import struct
import sys

# ONNX TensorProto.DataType values this tool reads, with struct formats.
FORMATS = {1: "f", 2: "B", 3: "b", 4: "H", 5: "h", 6: "i", 7: "q", 9: "?", 10: "e", 11: "d", 12: "I", 13: "Q"}


def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def fields(buf):
    """Yields (field number, wire type, value): ints for varint/fixed, bytes for length-delimited."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def packed_varints(value):
    out, pos = [], 0
    while pos < len(value):
        v, pos = varint(value, pos)
        out.append(signed64(v))
    return out


def read_tensor(path):
    with open(path, "rb") as f:
        buf = f.read()
    dims, data_type, raw, values, name = [], 0, None, [], ""
    for number, wire, value in fields(buf):
        if number == 1:
            dims.extend(packed_varints(value) if wire == 2 else [signed64(value)])
        elif number == 2:
            data_type = value
        elif number == 8:
            name = value.decode("utf-8", "replace")
        elif number == 9:
            raw = value
        elif number == 4:  # float_data (packed or not)
            values.extend(struct.unpack(f"<{len(value) // 4}f", value) if wire == 2 else struct.unpack("<f", value))
        elif number == 10:  # double_data
            values.extend(struct.unpack(f"<{len(value) // 8}d", value) if wire == 2 else struct.unpack("<d", value))
        elif number in (5, 7, 11):  # int32_data, int64_data, uint64_data
            values.extend(packed_varints(value) if wire == 2 else [signed64(value)])
    if raw is not None:
        fmt = FORMATS.get(data_type)
        if fmt is None:
            raise ValueError(f"{path}: unsupported data_type {data_type}")
        values = list(struct.unpack(f"<{len(raw) // struct.calcsize(fmt)}{fmt}", raw))
    return name, data_type, dims, values


def first_graph_input(model_path):
    with open(model_path, "rb") as f:
        buf = f.read()
    graph = next((v for n, w, v in fields(buf) if n == 7 and w == 2), None)
    if graph is None:
        raise ValueError(f"{model_path}: no graph")
    initializers, inputs = set(), []
    for number, wire, value in fields(graph):
        if number == 5:  # initializer: TensorProto, name is field 8
            initializers.update(v.decode() for n, w, v in fields(value) if n == 8)
        elif number == 11:  # input: ValueInfoProto
            inputs.append(value)
    for info in inputs:
        name, elem_type, dims = "", 0, []
        for number, wire, value in fields(info):
            if number == 1:
                name = value.decode()
            elif number == 2:  # TypeProto
                for n2, w2, tensor_type in fields(value):
                    if n2 != 1:
                        continue
                    for n3, w3, v3 in fields(tensor_type):
                        if n3 == 1:
                            elem_type = v3
                        elif n3 == 2:  # TensorShapeProto
                            for n4, w4, dim in fields(v3):
                                if n4 != 1:
                                    continue
                                size = 1
                                for n5, w5, v5 in fields(dim):
                                    if n5 == 1:
                                        size = signed64(v5) if signed64(v5) > 0 else 1
                                dims.append(size)
        if name not in initializers:
            return name, elem_type, dims
    raise ValueError(f"{model_path}: no graph input that is not an initializer")


def key(number, wire):
    return encode_varint((number << 3) | wire)


def encode_varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def make_input(args):
    name, elem_type, dims = first_graph_input(args.model)
    if args.batch:
        dims = [args.batch] + dims[1:]
    if elem_type != 1:
        raise SystemExit(f"make-input: input '{name}' has data_type {elem_type}; only float (1) is supported")
    count = math.prod(dims)
    state = args.seed & 0xFFFFFFFFFFFFFFFF or 1
    values = []
    for _ in range(count):  # xorshift64*: the same bytes on every machine
        state ^= state >> 12
        state ^= (state << 25) & 0xFFFFFFFFFFFFFFFF
        state ^= state >> 27
        values.append(((state * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF) / 2.0**64)
    raw = struct.pack(f"<{count}f", *values)
    out = b"".join(key(1, 0) + encode_varint(d) for d in dims)
    out += key(2, 0) + encode_varint(1)
    out += key(8, 2) + encode_varint(len(name.encode())) + name.encode()
    out += key(9, 2) + encode_varint(len(raw)) + raw
    with open(args.out, "wb") as f:
        f.write(out)
    print(f"make-input: {args.out}: '{name}' float {dims}")


def compare(args):
    _, ta, da, va = read_tensor(args.a)
    _, tb, db, vb = read_tensor(args.b)
    if ta != tb or da != db or len(va) != len(vb):
        print(f"compare: mismatch: {args.a} type {ta} dims {da} ({len(va)} values) vs "
              f"{args.b} type {tb} dims {db} ({len(vb)} values)")
        return 1
    worst, where = 0.0, -1
    for i, (x, y) in enumerate(zip(va, vb)):
        if math.isnan(x) and math.isnan(y):
            continue
        d = abs(x - y) if not (math.isnan(x) or math.isnan(y)) else math.inf
        if d > worst:
            worst, where = d, i
    ok = worst <= args.atol
    print(f"compare: {len(va)} values, dims {da}, max abs diff {worst:.3g}"
          + (f" at {where}" if where >= 0 else "") + (" <= " if ok else " > ") + f"{args.atol:g}: "
          + ("ok" if ok else "MISMATCH"))
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make-input")
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--batch", type=int, default=0, help="first dimension (default: the model's, 1 if symbolic)")
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--atol", type=float, default=1e-5)
    args = parser.parse_args()
    if args.command == "make-input":
        make_input(args)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
