"""Read a .tflite flatbuffer into a small, plain graph that the generator can lower.

The schema comes from `ai_edge_litert.schema_py_generated` (installed with LiteRT, no
TensorFlow needed), so parsing happens once at generation time and never on the board.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

import numpy as np

from tinyeit.errors import TinyEitError


class CodegenError(TinyEitError):
    """The model cannot be turned into C: the message names the model, op and reason."""


_DTYPES = {
    "FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "INT8": np.int8,
    "UINT8": np.uint8, "INT64": np.int64, "INT16": np.int16, "BOOL": np.bool_,
}


@dataclass
class Tensor:
    """One tensor: shape, numpy dtype, quantization, and its constant data if any."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scale: np.ndarray | None = None        # float32 scales (1 = per tensor)
    zero_point: np.ndarray | None = None   # int64 zero points
    quant_axis: int = 0
    data: np.ndarray | None = None         # constant tensors only

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def quantized(self) -> bool:
        return self.scale is not None and len(self.scale) > 0

    def qparams(self) -> tuple[float, int]:
        """Per-tensor (scale, zero point); (1.0, 0) for a tensor without quantization."""
        if not self.quantized:
            return 1.0, 0
        return float(self.scale[0]), int(self.zero_point[0])


@dataclass
class Op:
    """One operator: its builtin name, tensor indices (-1 = absent) and options object."""

    index: int
    name: str
    inputs: list[int]
    outputs: list[int]
    options: object = None


@dataclass
class Graph:
    """The model's only subgraph."""

    path: str
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    meta: dict = field(default_factory=dict)


def _schema():
    from ai_edge_litert import schema_py_generated  # noqa: PLC0415

    return schema_py_generated


def _names(enum_class) -> dict[int, str]:
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_")}


def read_model(path: str) -> Graph:
    """Parse `path` into a Graph; a malformed or multi-subgraph model is a CodegenError."""
    try:
        return _read_model(path)
    except TinyEitError:
        raise
    except (TypeError, ValueError, IndexError, AttributeError, UnicodeDecodeError, struct.error) as exc:
        # the flatbuffer accessors meet offsets that point nowhere: a damaged file
        raise CodegenError(f"{path}: malformed .tflite flatbuffer ({type(exc).__name__}: {exc})") \
            from None


def _read_model(path: str) -> Graph:
    schema = _schema()
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise CodegenError(f"{path}: cannot read model: {exc}") from exc
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise CodegenError(f"{path}: not a .tflite flatbuffer (no TFL3 identifier)")
    model = schema.ModelT.InitFromPackedBuf(raw, 0)
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise CodegenError(f"{path}: expected exactly one subgraph, found "
                           f"{len(model.subgraphs or [])}")
    sub = model.subgraphs[0]
    op_names = _names(schema.BuiltinOperator)
    type_names = _names(schema.TensorType)

    tensors = []
    for i, t in enumerate(sub.tensors):
        tname = type_names.get(t.type, str(t.type))
        if tname not in _DTYPES:
            raise CodegenError(f"{path}: tensor {i} has unsupported type {tname}")
        if t.sparsity is not None:
            raise CodegenError(f"{path}: tensor {i} is sparse; sparse tensors are not supported")
        dtype = np.dtype(_DTYPES[tname])
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        if any(d < 0 for d in shape):
            raise CodegenError(f"{path}: tensor {i} has a dynamic shape {shape}")
        data = None
        buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
        if buf is not None:
            if buf.data is not None and len(buf.data):
                data = np.frombuffer(bytes(np.asarray(buf.data, dtype=np.uint8)), dtype=dtype)
            elif buf.offset > 1:
                data = np.frombuffer(raw[buf.offset:buf.offset + buf.size], dtype=dtype)
            if data is not None:
                data = data.reshape(shape).copy()
        q = t.quantization
        scale = zp = None
        axis = 0
        if q is not None and q.scale is not None and len(q.scale):
            scale = np.asarray(q.scale, dtype=np.float32)
            zp = np.asarray(q.zeroPoint if q.zeroPoint is not None else [0] * len(scale),
                            dtype=np.int64)
            axis = int(q.quantizedDimension)
        name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
        tensors.append(Tensor(i, name, shape, dtype, scale, zp, axis, data))

    ops = []
    for k, o in enumerate(sub.operators):
        code = model.operatorCodes[o.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = op_names.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM":
            cname = code.customCode.decode() if code.customCode else "?"
            raise CodegenError(f"{path}: op {k} is the custom op {cname!r}, which the code "
                               "generator does not support")
        ops.append(Op(k, name, [int(i) for i in (o.inputs if o.inputs is not None else [])],
                      [int(i) for i in (o.outputs if o.outputs is not None else [])],
                      o.builtinOptions))
    _resolve_shapes(path, tensors)
    return Graph(os.fspath(path), tensors, ops, [int(i) for i in sub.inputs],
                 [int(i) for i in sub.outputs])


def _resolve_shapes(path: str, tensors: list[Tensor]) -> None:
    """Replace stored shapes of intermediate tensors by the ones LiteRT's shape propagation
    gives: the converter stores a batch of 1 where SPACE_TO_BATCH_ND really makes a larger one.
    This runs LiteRT's Prepare only (no inference), at generation time."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: PLC0415

    try:
        interp = Interpreter(model_path=os.fspath(path), experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
        interp.allocate_tensors()
    except (RuntimeError, ValueError) as exc:
        raise CodegenError(f"{path}: LiteRT cannot prepare this model: {exc}") from exc
    for detail in interp.get_tensor_details():
        i = detail["index"]
        if i < len(tensors) and not tensors[i].is_const:
            tensors[i].shape = tuple(int(d) for d in detail["shape"])
