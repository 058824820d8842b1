#!/usr/bin/python3
"""Writes tests/data/hostile/*.gguf: one small file per way a GGUF can be broken, plus
expectations.tsv (file <TAB> substring the error message must contain).

Each file starts from the same valid 1-layer llama model (valid.gguf, which must load)
and breaks exactly one thing. Regenerate with:  scripts/make_hostile_ggufs.py tests/data/hostile
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
DIM, FFN, HEADS, VOCAB = 16, 32, 4, 260


def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(b)) + b


def value(t, v):
    fmt = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B", U64: "<Q",
           I64: "<q", F64: "<d"}
    if t == STR:
        return s(v)
    if t == ARR:
        et, items = v
        out = struct.pack("<IQ", et, len(items))
        for it in items:
            out += value(et, it)
        return out
    return struct.pack(fmt[t], v)


def vocab():
    toks = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["\u2581the"]
    types = [2, 3, 3] + [6] * 256 + [1]
    scores = [0.0] * 259 + [-1.0]
    return toks, types, scores


class Model:
    def __init__(self):
        toks, types, scores = vocab()
        self.kvs = [
            ("general.architecture", STR, "llama"),
            ("general.name", STR, "hostile-base"),
            ("llama.context_length", U32, 64),
            ("llama.embedding_length", U32, DIM),
            ("llama.block_count", U32, 1),
            ("llama.feed_forward_length", U32, FFN),
            ("llama.attention.head_count", U32, HEADS),
            ("llama.attention.head_count_kv", U32, HEADS),
            ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
            ("tokenizer.ggml.model", STR, "llama"),
            ("tokenizer.ggml.tokens", ARR, (STR, toks)),
            ("tokenizer.ggml.scores", ARR, (F32, scores)),
            ("tokenizer.ggml.token_type", ARR, (I32, types)),
            ("tokenizer.ggml.bos_token_id", U32, 1),
            ("tokenizer.ggml.eos_token_id", U32, 2),
        ]
        shapes = [("token_embd.weight", [DIM, VOCAB]), ("output_norm.weight", [DIM]),
                  ("blk.0.attn_norm.weight", [DIM]), ("blk.0.attn_q.weight", [DIM, DIM]),
                  ("blk.0.attn_k.weight", [DIM, DIM]), ("blk.0.attn_v.weight", [DIM, DIM]),
                  ("blk.0.attn_output.weight", [DIM, DIM]), ("blk.0.ffn_norm.weight", [DIM]),
                  ("blk.0.ffn_gate.weight", [DIM, FFN]), ("blk.0.ffn_up.weight", [DIM, FFN]),
                  ("blk.0.ffn_down.weight", [FFN, DIM])]
        # (name, dims, type id, offset or None, data bytes)
        self.tensors = []
        for i, (name, dims) in enumerate(shapes):
            n = 1
            for d in dims:
                n *= d
            vals = [1.0] * n if len(dims) == 1 else [((k * 7 + i * 13) % 17 - 8) / 64.0 for k in range(n)]
            if name == "token_embd.weight":  # F16 keeps the files small
                self.tensors.append([name, dims, 1, None, struct.pack("<%de" % n, *vals)])
            else:
                self.tensors.append([name, dims, 0, None, struct.pack("<%df" % n, *vals)])
        self.magic = b"GGUF"
        self.version = 3
        self.n_tensors = None
        self.n_kv = None
        self.truncate = None
        self.raw_kv = b""  # appended raw bytes after the kvs (and counted by extra_kv)
        self.extra_kv = 0

    def set_kv(self, key, t, v):
        self.kvs = [kv for kv in self.kvs if kv[0] != key] + [(key, t, v)]

    def drop_kv(self, key):
        self.kvs = [kv for kv in self.kvs if kv[0] != key]

    def tensor(self, name):
        return next(t for t in self.tensors if t[0] == name)

    def build(self):
        out = self.magic + struct.pack("<I", self.version)
        out += struct.pack("<Q", len(self.tensors) if self.n_tensors is None else self.n_tensors)
        out += struct.pack("<Q", len(self.kvs) + self.extra_kv if self.n_kv is None else self.n_kv)
        for k, t, v in self.kvs:
            out += s(k) + struct.pack("<I", t) + value(t, v)
        out += self.raw_kv
        align = 32
        for k, t, v in self.kvs:
            if k == "general.alignment" and isinstance(v, int) and v > 0 and (v & (v - 1)) == 0:
                align = v
        offset = 0
        offsets = []
        for name, dims, tid, off, data in self.tensors:
            o = offset if off is None else off
            offsets.append(o)
            out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<IQ", tid, o)
            offset = (offset + len(data) + align - 1) // align * align
        out += b"\0" * ((-len(out)) % align)
        data_start = len(out)
        blob = bytearray()
        for (name, dims, tid, off, data), o in zip(self.tensors, offsets):
            if off is not None:
                continue
            blob += b"\0" * (o - len(blob))
            blob += data
        out += bytes(blob)
        if self.truncate is not None:
            out = out[:self.truncate if self.truncate >= 0 else len(out) + self.truncate]
        return out


def cases():
    def m(**kw):
        x = Model()
        for k, v in kw.items():
            setattr(x, k, v)
        return x

    c = {}
    c["valid"] = (Model(), "")
    c["empty_file"] = (m(truncate=0), "truncated file: magic")
    c["truncated_header"] = (m(truncate=6), "truncated file: version")
    c["wrong_magic"] = (m(magic=b"GGML"), "not a GGUF file")
    c["version_1"] = (m(version=1), "version 1 is obsolete")
    c["version_99"] = (m(version=99), "GGUF version 99 is not supported")
    c["big_endian"] = (m(version=0x03000000), "big-endian")
    c["n_tensors_2e62"] = (m(n_tensors=1 << 62), "tensor count 4611686018427387904 cannot fit")
    c["n_kv_2e62"] = (m(n_kv=1 << 62), "metadata count 4611686018427387904 cannot fit")
    x = Model(); x.extra_kv = 1; x.raw_kv = struct.pack("<Q", 1 << 40) + b"key"
    c["key_longer_than_file"] = (x, "metadata key at offset")
    x = Model(); x.extra_kv = 1; x.raw_kv = s("k.str") + struct.pack("<IQ", STR, 1 << 33) + b"abc"
    c["string_longer_than_file"] = (x, "string value at offset")
    x = Model(); x.extra_kv = 1; x.raw_kv = s("k.bad") + struct.pack("<I", 99)
    c["unknown_value_type"] = (x, "has unknown value type 99")
    x = Model(); x.extra_kv = 1; x.raw_kv = s("k.arr") + struct.pack("<IIQ", ARR, F32, 1 << 40)
    c["array_longer_than_file"] = (x, "array of 1099511627776 float32 elements is longer than the file")
    x = Model(); x.extra_kv = 1; x.raw_kv = s("k.sarr") + struct.pack("<IIQ", ARR, STR, 1 << 50)
    c["string_array_count_huge"] = (x, "string array of 1125899906842624 elements cannot fit")
    x = Model(); x.extra_kv = 1; x.raw_kv = s("k.nest") + struct.pack("<IIQ", ARR, ARR, 1)
    c["nested_array"] = (x, "nested arrays are not supported")
    x = Model(); x.kvs.append(("general.name", STR, "again"))
    c["duplicate_key"] = (x, "duplicate metadata key 'general.name'")
    x = Model(); x.extra_kv = 1; x.raw_kv = s("k.bool") + struct.pack("<IB", BOOL, 2)
    c["bool_value_2"] = (x, "bool value 2 is not 0 or 1")
    x = Model(); x.tensor("blk.0.attn_q.weight")[1] = [DIM, DIM, 1, 1, 1]
    c["n_dims_5"] = (x, "has 5 dimensions; 1 to 4 are allowed")
    x = Model(); x.tensor("blk.0.attn_q.weight")[1] = [DIM, 0]
    c["dim_zero"] = (x, "dimension 1 is 0")
    x = Model(); x.tensor("blk.0.attn_q.weight")[1] = [1 << 32, 1 << 32]
    c["dims_product_overflow"] = (x, "the product of its dimensions overflows")
    x = Model(); x.tensor("blk.0.attn_q.weight")[2] = 99
    c["unknown_type_id"] = (x, "tensor type id 99")
    x = Model(); x.tensor("blk.0.attn_q.weight")[2] = 10
    c["unsupported_type_q2k"] = (x, "Q2_K, not supported")
    x = Model(); t = x.tensor("blk.0.attn_q.weight"); t[1] = [33, 32]; t[2] = 2
    c["row_not_multiple_of_block"] = (x, "row length 33 is not a multiple of the Q4_0 block size 32")
    x = Model(); x.tensor("blk.0.ffn_down.weight")[3] = 1 << 40
    c["offset_past_eof"] = (x, "runs past the end of the file")
    x = Model(); x.tensor("blk.0.ffn_down.weight")[3] = 8
    c["misaligned_offset"] = (x, "is not a multiple of the alignment 32")
    x = Model(); x.tensor("blk.0.attn_k.weight")[0] = "blk.0.attn_q.weight"
    c["duplicate_tensor_name"] = (x, "duplicate tensor name 'blk.0.attn_q.weight'")
    c["data_shorter_than_declared"] = (m(truncate=-100), "runs past the end of the file")
    x = Model(); x.tensor("blk.0.attn_k.weight")[3] = 0
    c["overlapping_tensors"] = (x, "overlap in the file")
    x = Model(); x.kvs.append(("general.alignment", U32, 3))
    c["alignment_not_power_of_two"] = (x, "general.alignment 3 is not a power of two")
    x = Model(); x.tensor("output_norm.weight")[0] = "x" * 100
    c["tensor_name_too_long"] = (x, "the limit is 63")
    x = Model(); x.tensor("output_norm.weight")[0] = ""
    c["tensor_name_empty"] = (x, "tensor with an empty name")
    x = Model(); x.tensors = [t for t in x.tensors if t[0] != "blk.0.attn_q.weight"]
    c["missing_tensor"] = (x, "tensor 'blk.0.attn_q.weight' is missing")
    x = Model(); t = x.tensor("blk.0.attn_q.weight"); t[1] = [DIM, DIM // 2]; t[4] = t[4][:len(t[4]) // 2]
    c["wrong_shape"] = (x, "tensor 'blk.0.attn_q.weight' has shape [16, 8], expected [16, 16]")
    x = Model(); t = x.tensor("blk.0.attn_norm.weight"); t[4] = struct.pack("<f", float("nan")) + t[4][4:]
    c["nan_in_norm"] = (x, "tensor 'blk.0.attn_norm.weight' holds a non-finite value")
    x = Model(); t = x.tensor("blk.0.ffn_up.weight"); t[4] = t[4][:40] + struct.pack("<f", float("inf")) + t[4][44:]
    c["inf_in_matrix"] = (x, "tensor 'blk.0.ffn_up.weight' holds a non-finite value at element 10")
    x = Model(); x.set_kv("general.architecture", STR, "gpt9")
    c["unknown_arch"] = (x, "architecture 'gpt9' is not supported")
    x = Model(); x.drop_kv("tokenizer.ggml.tokens")
    c["missing_tokenizer"] = (x, "metadata key 'tokenizer.ggml.tokens' is missing")
    x = Model(); x.set_kv("tokenizer.ggml.token_type", ARR, (I32, [1] * 10))
    c["token_type_length"] = (x, "tokenizer.ggml.token_type length differs from tokens")
    x = Model(); x.set_kv("llama.attention.head_count", U32, 0)
    c["zero_heads"] = (x, "attention.head_count = 0 is outside")
    x = Model(); x.set_kv("tokenizer.ggml.bos_token_id", U32, 100000)
    c["bos_out_of_range"] = (x, "special token id 100000 is outside the vocabulary")
    x = Model(); x.set_kv("llama.embedding_length", STR, "32")
    c["dim_is_a_string"] = (x, "metadata key 'llama.embedding_length' is string, expected an integer")
    x = Model(); x.drop_kv("llama.block_count")
    c["missing_block_count"] = (x, "metadata key 'llama.block_count' is missing")
    x = Model(); t = x.tensor("token_embd.weight"); t[1] = [DIM, VOCAB - 4]; t[4] = t[4][:DIM * (VOCAB - 4) * 2]
    c["vocab_size_mismatch"] = (x, "token_embd has 256 rows but the tokenizer has 260 tokens")
    x = Model(); x.set_kv("tokenizer.ggml.model", STR, "wordpiece9")
    c["unknown_tokenizer"] = (x, "tokenizer model 'wordpiece9' is not supported")
    x = Model(); x.set_kv("llama.attention.head_count_kv", U32, 3)
    c["kv_heads_not_divisor"] = (x, "4 heads are not a multiple of 3 KV heads")
    return c


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/hostile"
    os.makedirs(out_dir, exist_ok=True)
    lines = []
    for name, (model, expect) in sorted(cases().items()):
        with open(os.path.join(out_dir, name + ".gguf"), "wb") as f:
            f.write(model.build())
        lines.append(f"{name}.gguf\t{expect}")
    with open(os.path.join(out_dir, "expectations.tsv"), "w") as f:
        f.write("# file<TAB>substring of the error (empty: must load)\n" + "\n".join(lines) + "\n")
    print(f"wrote {len(lines)} files to {out_dir}")


if __name__ == "__main__":
    main()
