"""The tflm engine's generated sources: the .tflite as a byte array, an op resolver of just its
ops, and a model.h with the same API defines as the code generator's, so that the harness, the
frames and the deploy stage are the same for both engines.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyeit.errors import TinyEitError

# MicroMutableOpResolver's Add<Op>() methods (TFLite Micro at the pinned commit), by builtin
# name; a name missing here is not an op TFLM can register.
RESOLVER_METHODS = {
    "ABS": "AddAbs", "ADD": "AddAdd", "ADD_N": "AddAddN", "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin", "AVERAGE_POOL_2D": "AddAveragePool2D", "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd", "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo", "CAST": "AddCast", "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation", "CONV_2D": "AddConv2D", "COS": "AddCos",
    "CUMSUM": "AddCumSum", "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D", "DEQUANTIZE": "AddDequantize", "DIV": "AddDiv",
    "ELU": "AddElu", "EQUAL": "AddEqual", "EXP": "AddExp", "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill", "FLOOR": "AddFloor", "FLOOR_DIV": "AddFloorDiv", "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected", "GATHER": "AddGather", "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater", "GREATER_EQUAL": "AddGreaterEqual", "HARD_SWISH": "AddHardSwish",
    "L2_NORMALIZATION": "AddL2Normalization", "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu", "LESS": "AddLess", "LESS_EQUAL": "AddLessEqual", "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd", "LOGICAL_NOT": "AddLogicalNot", "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic", "LOG_SOFTMAX": "AddLogSoftmax", "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D", "MIRROR_PAD": "AddMirrorPad", "MEAN": "AddMean",
    "MINIMUM": "AddMinimum", "MUL": "AddMul", "NEG": "AddNeg", "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack", "PAD": "AddPad", "PADV2": "AddPadV2", "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize", "REDUCE_MAX": "AddReduceMax", "REDUCE_MIN": "AddReduceMin",
    "RELU": "AddRelu", "RELU6": "AddRelu6", "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear", "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "REVERSE_V2": "AddReverseV2", "ROUND": "AddRound", "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2", "SHAPE": "AddShape", "SIN": "AddSin", "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax", "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth", "SPLIT": "AddSplit", "SPLIT_V": "AddSplitV",
    "SQUEEZE": "AddSqueeze", "SQRT": "AddSqrt", "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference", "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub", "SUM": "AddSum", "SVDF": "AddSvdf", "TANH": "AddTanh",
    "TRANSPOSE_CONV": "AddTransposeConv", "TRANSPOSE": "AddTranspose", "UNPACK": "AddUnpack",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM", "ZEROS_LIKE": "AddZerosLike",
}
C_TYPES = {np.dtype(np.int8): "int8_t", np.dtype(np.uint8): "uint8_t", np.dtype(np.int16): "int16_t",
           np.dtype(np.float32): "float"}


class TflmError(TinyEitError):
    """The model cannot be put behind TFLite Micro (an op it has no kernel for, an I/O type)."""


def read_graph(tflite: str | Path):
    from tinyeit.codegen.model_reader import read_model

    return read_model(str(tflite))


def model_ops(graph) -> list[str]:
    """The model's builtin op names, each once, sorted (the resolver's registration order)."""
    return sorted({op.name for op in graph.ops})


def library_ops() -> set[str]:
    """The builtin ops whose kernels the tflm images compile (docker/tflm/kernels.tsv): TFLM's
    other kernels are left out of the library to keep the image builds short."""
    from tinyeit.containers.images import docker_dir

    path = docker_dir() / "tflm" / "kernels.tsv"
    ops = set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        op, _, sources = line.partition("\t")
        if not sources.strip():
            raise TflmError(f"{path}:{n}: expected `op<TAB>kernel sources`, got {line!r}")
        if op != "-":
            ops.add(op)
    return ops


def resolver_header(ops: list[str], where: str) -> str:
    """tinyeit_tflm_ops.h: TINYEIT_TFLM_N_OPS and a function registering exactly `ops`."""
    unknown = [op for op in ops if op not in RESOLVER_METHODS]
    if unknown:
        raise TflmError(f"{where}: TFLite Micro's op resolver has no {', '.join(unknown)}")
    not_built = sorted(set(ops) - library_ops())
    if not_built:
        raise TflmError(f"{where}: the tflm images' TFLite Micro library is built without the "
                        f"{', '.join(not_built)} kernel(s): add them to docker/tflm/kernels.tsv "
                        "(the tflm images are then rebuilt)")
    if not ops:
        raise TflmError(f"{where}: the model has no ops")
    calls = "".join(f"    if (r.{RESOLVER_METHODS[op]}() != kTfLiteOk) return kTfLiteError;\n" for op in ops)
    return ("/* Generated by tinyeit from the model's op list: the op resolver registers only these. */\n"
            "#ifndef TINYEIT_TFLM_OPS_H\n#define TINYEIT_TFLM_OPS_H\n"
            "#include \"tensorflow/lite/micro/micro_mutable_op_resolver.h\"\n\n"
            f"#define TINYEIT_TFLM_N_OPS {len(ops)}\n"
            f"/* {', '.join(ops)} */\n"
            "template <unsigned int N>\n"
            "inline TfLiteStatus tinyeit_tflm_add_ops(tflite::MicroMutableOpResolver<N> &r) {\n"
            f"{calls}    return kTfLiteOk;\n}}\n#endif\n")


def model_array(tflite_bytes: bytes) -> tuple[str, str]:
    """(tinyeit_tflm_model.h, tinyeit_tflm_model.cc): the flatbuffer as a 16-byte aligned array."""
    header = ("/* The .tflite flatbuffer, embedded (generated). */\n"
              "#ifndef TINYEIT_TFLM_MODEL_H\n#define TINYEIT_TFLM_MODEL_H\n"
              "extern const unsigned char tinyeit_tflm_model[];\n"
              "extern const unsigned int tinyeit_tflm_model_len;\n#endif\n")
    rows = [", ".join(f"0x{b:02x}" for b in tflite_bytes[k:k + 16]) for k in range(0, len(tflite_bytes), 16)]
    source = ("/* The .tflite flatbuffer, embedded (generated). */\n"
              "#include \"tinyeit_tflm_model.h\"\n\n"
              "alignas(16) const unsigned char tinyeit_tflm_model[] = {\n    "
              + ",\n    ".join(rows) + "\n};\n"
              f"const unsigned int tinyeit_tflm_model_len = {len(tflite_bytes)}u;\n")
    return header, source


def _io(graph, index: int, what: str, where: str) -> tuple[int, str]:
    tensor = graph.tensors[index]
    ctype = C_TYPES.get(np.dtype(tensor.dtype))
    if ctype is None:
        raise TflmError(f"{where}: the model's {what} is {np.dtype(tensor.dtype)}, not one of "
                        f"{', '.join(sorted(C_TYPES.values()))}")
    return tensor.size, ctype


def model_header(graph, tflite_bytes: bytes, arena_bytes: int, where: str) -> tuple[str, dict]:
    """model.h with the code generator's API defines, and those values as a dict."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise TflmError(f"{where}: expected one input and one output, found "
                        f"{len(graph.inputs)} and {len(graph.outputs)}")
    in_size, in_type = _io(graph, graph.inputs[0], "input", where)
    out_size, out_type = _io(graph, graph.outputs[0], "output", where)
    values = {"TINYEIT_INPUT_SIZE": in_size, "TINYEIT_OUTPUT_SIZE": out_size,
              "TINYEIT_INPUT_TYPE": in_type, "TINYEIT_OUTPUT_TYPE": out_type,
              "TINYEIT_ARENA_BYTES": int(arena_bytes), "TINYEIT_WEIGHTS_BYTES": len(tflite_bytes)}
    text = ("/* The tflm engine's model API (generated): the same defines as the code generator's\n"
            " * model.h; TINYEIT_WEIGHTS_BYTES is the embedded .tflite's size. */\n"
            "#ifndef TINYEIT_MODEL_H\n#define TINYEIT_MODEL_H\n#include <stdint.h>\n"
            + "".join(f"#define {k} {v}\n" for k, v in values.items())
            + "int tinyeit_invoke(const void *input, void *output);\n#endif\n")
    return text, values
