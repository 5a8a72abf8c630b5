"""How conv and fully connected weights are stored in the generated C, and what that costs.

Every conv / fully connected weight tensor is stored in one of these formats:
- `dense`: every weight (int8: the packed 4-unit x 4-input blocks of tinyeit_fc_s8; float: rows
  in blocks of TINYEIT_F32_BLOCK), every multiply-accumulate executed;
- `block_sparse`: only the nonzero blocks with compact block indices (encode_block_sparse_s8 /
  encode_block_sparse_f32 below); the kernels skip the zero blocks;
- `codebook`: at most 16 distinct values as 4-bit indices plus a table.

Per layer the code generator records its choice (`weight_format`), the bytes of the weights in
flash (`weight_bytes`: the weight array as stored, indices and tables included, not the bias or
requantization tables) and the multiply-accumulates the kernel executes per inference
(`macs_executed`). `layer_records` gives those figures for the dense storage the generator uses
for every layer until it picks another format; `model_figures` sums them per model.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from tinyeit.codegen.model_reader import CodegenError, Graph, Op, read_model

DENSE, BLOCK_SPARSE, CODEBOOK = "dense", "block_sparse", "codebook"
FORMATS = (DENSE, BLOCK_SPARSE, CODEBOOK)
WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass
class LayerWeights:
    """One conv or fully connected layer's weights as the generated C stores and uses them."""

    op_index: int
    op: str
    tensor: int
    shape: list
    dtype: str            # the stored element type: int8 or float32
    weight_format: str
    weight_bytes: int     # bytes of the weight array(s) in flash
    macs_executed: int    # multiply-accumulates per inference the kernel runs
    macs_dense: int       # the same layer's MACs stored dense
    weights: int          # elements of the weight tensor
    nonzero: int          # of which nonzero
    distinct: int         # distinct values

    def as_dict(self) -> dict:
        return asdict(self)


def _words(nbytes: int) -> int:
    """Bytes of an array the generator word-aligns (a union with an int32_t): whole words."""
    return -(-int(nbytes) // 4) * 4


def dense_weight_bytes(op: str, stored_dtype, size: int, input_dtype=np.int8) -> int:
    """Flash bytes of a dense weight array: int8 conv / fully connected weights of int8 ops are
    packed and word aligned; float, hybrid (float input) and depthwise arrays are plain."""
    itemsize = np.dtype(stored_dtype).itemsize
    if (np.dtype(stored_dtype) == np.int8 and np.dtype(input_dtype) == np.int8
            and op != "DEPTHWISE_CONV_2D"):
        return _words(size)
    return size * itemsize


def layer_macs(graph: Graph, op: Op) -> int:
    """Dense multiply-accumulates of one conv / fully connected op per inference (every output
    times the filter depth; the target kernels run border windows whole, the zero point
    standing in for the taps outside the input)."""
    t = graph.tensors
    w, out = t[op.inputs[1]], t[op.outputs[0]]
    if op.name == "FULLY_CONNECTED":
        units, depth = int(w.shape[0]), int(np.prod(w.shape[1:], dtype=np.int64))
        x = t[op.inputs[0]]
        return (x.size // depth) * units * depth
    if op.name == "CONV_2D":
        return out.size * int(np.prod(w.shape[1:], dtype=np.int64))
    return out.size * int(w.shape[1] * w.shape[2])  # depthwise: k_h * k_w per output


def _stored_dtype(graph: Graph, op: Op) -> np.dtype:
    w = graph.tensors[op.inputs[1]]
    # float16 and dequantized int8 weights are folded to float32 constants at generation time
    return np.dtype(w.data.dtype) if w.data is not None else np.dtype(w.dtype)


def dense_record(graph: Graph, op: Op) -> LayerWeights:
    w = graph.tensors[op.inputs[1]]
    if w.data is None:
        raise CodegenError(f"{graph.path}: op {op.index} ({op.name}): weights are not constant")
    stored = _stored_dtype(graph, op)
    macs = layer_macs(graph, op)
    data = np.asarray(w.data)
    return LayerWeights(
        op_index=op.index, op=op.name, tensor=w.index, shape=[int(d) for d in w.shape],
        dtype=stored.name, weight_format=DENSE,
        weight_bytes=dense_weight_bytes(op.name, stored, data.size,
                                        graph.tensors[op.inputs[0]].dtype), macs_executed=macs,
        macs_dense=macs, weights=int(data.size), nonzero=int(np.count_nonzero(data)),
        distinct=int(np.unique(data).size))


def weight_ops(graph: Graph, ops: list[Op] | None = None) -> list[Op]:
    return [op for op in (graph.ops if ops is None else ops) if op.name in WEIGHT_OPS]


def layer_records(tflite_path: str) -> list[dict]:
    """Every conv / fully connected layer of the model stored dense (what the generator emits
    for layers it does not store otherwise), in op order."""
    from tinyeit.codegen.passes import fold_constants  # noqa: PLC0415

    graph = read_model(str(tflite_path))
    ops = fold_constants(graph)
    return [dense_record(graph, op).as_dict() for op in weight_ops(graph, ops)]


def model_figures(layers: list[dict]) -> dict:
    """Per-model figures from the per-layer ones: the formats used (joined with '+', sorted),
    total weight bytes and executed MACs."""
    formats = sorted({layer["weight_format"] for layer in layers})
    return {
        "weight_format": "+".join(formats) if formats else None,
        "weight_bytes": int(sum(layer["weight_bytes"] for layer in layers)),
        # RAM the layers take at run time (codebook_ram: expanded at start-up), beside flash
        "weight_ram_bytes": int(sum(layer.get("weight_ram_bytes", 0) for layer in layers)),
        "macs_executed": int(sum(layer["macs_executed"] for layer in layers)),
    }


def weights_document(layers: list[dict]) -> dict:
    """What `tinyeit codegen` writes as weights.json beside model.c."""
    return {**model_figures(layers), "layers": layers}


def tflite_figures(tflite_path: str) -> dict:
    """The same figures for an engine that runs the .tflite's own tensors (TFLite Micro): every
    weight tensor dense, as the file stores it."""
    graph = read_model(str(tflite_path))
    layers = []
    for op in weight_ops(graph):
        w = graph.tensors[op.inputs[1]]
        if op.name == "FULLY_CONNECTED" or w.data is not None:
            layers.append({"weight_format": DENSE, "weight_bytes": int(w.nbytes),
                           "macs_executed": layer_macs(graph, op)})
    return model_figures(layers)


# ---- block-sparse layout ----------------------------------------------------------------------
# Blocks of UNIT_BLOCK units x GROUP inputs, the packed dense layout's own 16-weight blocks, so
# that a kept block is read by the dense kernels' inner loop as it is.
UNIT_BLOCK = 4
GROUP = 4
# The block-sparse kernel pays an index load per kept block: the generator takes it only when
# at most this fraction of a tensor's blocks hold a nonzero weight (else dense is as fast).
MAX_BLOCK_DENSITY = 0.75


@dataclass
class BlockSparse:
    """A [units, n] weight matrix in the block-sparse layout (tinyeit_kernels.h):

    - `index` (uint16): per block of 4 units (units // 4 of them), the count c of its kept
      4-input groups, then their group numbers (input / 4) in increasing order;
    - `values`: per block of 4 units, its c kept groups (int8: 16 bytes, unit 0's 4 weights,
      unit 1's, ...; float: 16 floats, input 0's 4 units' weights, input 1's, ...), then the
      block's last n % 4 inputs dense (each as the 4 units' weights); after the blocks, the
      units % 4 remaining units as plain rows.
    """

    index: np.ndarray
    values: np.ndarray
    units: int
    n: int
    kept_groups: int
    total_groups: int

    @property
    def nbytes(self) -> int:
        """Flash bytes: the values (word aligned) and the index."""
        return _words(self.values.nbytes) + int(self.index.nbytes)

    def macs(self, batches: int = 1) -> int:
        """MACs the kernel executes per input row: 16 per kept group, the tails and plain rows
        whole."""
        units, n = self.units, self.n
        blocks = units // UNIT_BLOCK
        dense_part = blocks * UNIT_BLOCK * (n % GROUP) + (units % UNIT_BLOCK) * n
        return batches * (self.kept_groups * UNIT_BLOCK * GROUP + dense_part)


def group_mask(rows: np.ndarray) -> np.ndarray:
    """[units // 4, n // 4]: whether each 4-unit x 4-input block holds a nonzero weight."""
    rows = np.asarray(rows)
    units, n = rows.shape
    b, g = units // UNIT_BLOCK, n // GROUP
    blocks = rows[:b * UNIT_BLOCK, :g * GROUP].reshape(b, UNIT_BLOCK, g, GROUP)
    return np.any(blocks != 0, axis=(1, 3))


def block_density(rows: np.ndarray) -> float:
    """Fraction of the 4 x 4 blocks holding a nonzero weight (1.0 when there are none)."""
    mask = group_mask(rows)
    return float(mask.mean()) if mask.size else 1.0


def encode_block_sparse(rows: np.ndarray) -> BlockSparse:
    """Encode [units, n] int8 or float32 weights (its dtype is kept) in the block-sparse layout."""
    rows = np.asarray(rows)
    if rows.ndim != 2:
        raise CodegenError(f"block-sparse weights must be 2D [units, inputs], got shape {rows.shape}")
    if rows.dtype not in (np.int8, np.float32):
        raise CodegenError(f"block-sparse weights must be int8 or float32, got {rows.dtype}")
    units, n = rows.shape
    if n // GROUP > 0xFFFF:
        raise CodegenError(f"block-sparse weights: {n} inputs exceed the uint16 group index")
    mask = group_mask(rows)
    n4, full = n - n % GROUP, units - units % UNIT_BLOCK
    index: list[int] = []
    parts: list[np.ndarray] = []
    for blk, u in enumerate(range(0, full, UNIT_BLOCK)):
        block = rows[u:u + UNIT_BLOCK]
        kept = np.flatnonzero(mask[blk]) if mask.size else np.zeros(0, np.int64)
        index.append(len(kept))
        index.extend(int(g) for g in kept)
        for g in kept:
            group = block[:, g * GROUP:(g + 1) * GROUP]  # [unit, input]
            parts.append((group if rows.dtype == np.int8 else group.T).reshape(-1))
        parts.append(block[:, n4:].T.reshape(-1))
    parts.append(rows[full:].reshape(-1))
    values = np.concatenate(parts).astype(rows.dtype) if parts else np.zeros(0, rows.dtype)
    return BlockSparse(index=np.asarray(index, np.uint16), values=values, units=units, n=n,
                       kept_groups=int(mask.sum()), total_groups=int(mask.size))


def decode_block_sparse(enc: BlockSparse) -> np.ndarray:
    """The [units, n] matrix back from its layout (for tests and checks)."""
    units, n = enc.units, enc.n
    n4, full, tail = n - n % GROUP, units - units % UNIT_BLOCK, n % GROUP
    out = np.zeros((units, n), enc.values.dtype)
    idx, vals = list(enc.index.astype(np.int64)), enc.values
    i = v = 0
    for u in range(0, full, UNIT_BLOCK):
        count = idx[i]
        groups, i = idx[i + 1:i + 1 + count], i + 1 + count
        for g in groups:
            blk = vals[v:v + 16].reshape(UNIT_BLOCK, GROUP)
            out[u:u + UNIT_BLOCK, g * GROUP:(g + 1) * GROUP] = blk if vals.dtype == np.int8 else blk.T
            v += 16
        out[u:u + UNIT_BLOCK, n4:] = vals[v:v + UNIT_BLOCK * tail].reshape(tail, UNIT_BLOCK).T
        v += UNIT_BLOCK * tail
    out[full:] = vals[v:].reshape(units - full, n)
    return out


def choose_format(rows: np.ndarray) -> str:
    """The storage a [units, n] int8 or float32 weight matrix gets: block_sparse when few enough
    of its 4 x 4 blocks hold a nonzero weight and that stores fewer bytes (fewer bytes and fewer
    MACs), else codebook when at most 16 values per tensor or per unit make it at most
    MAX_CODEBOOK_RATIO of the dense bytes (fewer bytes, more cycles: a table lookup per
    weight), else dense."""
    rows = np.asarray(rows)
    if rows.ndim != 2 or rows.shape[0] < UNIT_BLOCK or rows.shape[1] < GROUP:
        return DENSE
    dense = _words(rows.size) if rows.dtype == np.int8 else rows.nbytes
    if block_density(rows) <= MAX_BLOCK_DENSITY and encode_block_sparse(rows).nbytes < dense:
        return BLOCK_SPARSE
    if codebook_values(rows) is not None and encode_codebook(rows).nbytes <= MAX_CODEBOOK_RATIO * dense:
        return CODEBOOK
    return DENSE


# ---- codebook layout --------------------------------------------------------------------------
CODEBOOK_SIZE = 16  # 4-bit indices
MAX_CODEBOOK_RATIO = 0.75


@dataclass
class Codebook:
    """A [units, n] weight matrix with at most 16 distinct values per table row:

    - `table`: 16 values per row (int8 or float32, unused entries 0), one row for the whole
      tensor (`per_unit` False) or one per unit;
    - `codes` (uint8): each unit's n 4-bit indices, two per byte (input 2i in the low nibble,
      2i + 1 in the high one), a unit's row padded to a whole byte.
    """

    table: np.ndarray
    codes: np.ndarray
    units: int
    n: int
    per_unit: bool

    @property
    def nbytes(self) -> int:
        return _words(self.codes.nbytes) + int(self.table.nbytes)

    def macs(self, batches: int = 1) -> int:
        return batches * self.units * self.n


def codebook_values(rows: np.ndarray) -> tuple[bool, list[np.ndarray]] | None:
    """(per_unit, the sorted distinct values of the tensor or of each unit) when a 4-bit
    codebook holds them (the tensor's, else each unit's, at most 16), else None."""
    rows = np.asarray(rows)
    values = np.unique(rows)
    if values.size <= CODEBOOK_SIZE:
        return False, [values]
    per_unit = [np.unique(r) for r in rows]
    if all(v.size <= CODEBOOK_SIZE for v in per_unit):
        return True, per_unit
    return None


def encode_codebook(rows: np.ndarray) -> Codebook:
    """Encode [units, n] int8 or float32 weights with at most 16 values per tensor (else per
    unit) as 4-bit indices and a table."""
    rows = np.asarray(rows)
    if rows.ndim != 2 or rows.dtype not in (np.int8, np.float32):
        raise CodegenError(f"codebook weights must be 2D int8 or float32, got {rows.dtype} {rows.shape}")
    found = codebook_values(rows)
    if found is None:
        raise CodegenError(f"codebook weights: more than {CODEBOOK_SIZE} distinct values per unit")
    per_unit, tables = found
    units, n = rows.shape
    table = np.zeros((len(tables), CODEBOOK_SIZE), rows.dtype)
    idx = np.zeros((units, n + n % 2), np.uint8)
    for t, vals in enumerate(tables):
        table[t, :vals.size] = vals
    for u in range(units):
        vals = tables[u if per_unit else 0]
        idx[u, :n] = np.searchsorted(vals, rows[u])
    codes = (idx[:, 0::2] | (idx[:, 1::2] << 4)).astype(np.uint8)
    return Codebook(table=table.reshape(-1), codes=codes.reshape(-1), units=units, n=n,
                    per_unit=per_unit)


def decode_codebook(enc: Codebook) -> np.ndarray:
    units, n = enc.units, enc.n
    codes = enc.codes.reshape(units, -1)
    idx = np.empty((units, codes.shape[1] * 2), np.int64)
    idx[:, 0::2], idx[:, 1::2] = codes & 15, codes >> 4
    table = enc.table.reshape(-1, CODEBOOK_SIZE)
    rows = table[np.arange(units) if enc.per_unit else np.zeros(units, np.int64)]
    return np.take_along_axis(rows, idx[:, :n], axis=1)


def layers_of(graph: Graph, ops: list[Op], chosen: dict[int, LayerWeights]) -> list[dict]:
    """Per conv / fully connected op of `ops`, the record its lowering made (`chosen`, by op
    index), else its dense record."""
    return [(chosen[op.index] if op.index in chosen else dense_record(graph, op)).as_dict()
            for op in weight_ops(graph, ops)]


def stored_record(graph: Graph, op: Op, fmt: str, nbytes: int, macs: int) -> LayerWeights:
    """The record of a layer stored in another format than dense."""
    rec = dense_record(graph, op)
    rec.weight_format, rec.weight_bytes, rec.macs_executed = fmt, int(nbytes), int(macs)
    return rec
