"""A ``.tflite`` file as data: read and write its flatbuffer, its metadata, its ops and their cost.

What ``convert`` writes into a file (``add_metadata``: the ``lsm_edge`` metadata entry, read back by
``runtime.read_metadata``) and what ``bench``, ``inspect`` and the ARM emulation read out of one
(FLOPs per signature, op counts, XNNPACK coverage, input quantization).  numpy + the flatbuffer
schema only: no TensorFlow at import.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from .. import runtime, schema
from ..errors import LsmEdgeError
from ..runtime import METADATA_NAME, SUPPORTED_METADATA_VERSION, quantize, tensor_quantization

MATMUL_OPS = ("FULLY_CONNECTED", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D")


def _builtin_names(fb) -> dict:
    return {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}


def signature_flops(flat: bytes) -> dict:
    """{signature: FLOPs of one call} counted from the flatbuffer (2 x MACs of the matmul-like ops)."""
    from ai_edge_litert import schema_py_generated as fb

    m = fb.Model.GetRootAsModel(flat, 0)
    names = _builtin_names(fb)
    sigs = {m.SignatureDefs(i).SignatureKey().decode(): m.SignatureDefs(i).SubgraphIndex()
            for i in range(m.SignatureDefsLength())} or {"serving_default": 0}
    out = {}
    for sig, si in sigs.items():
        g = m.Subgraphs(si)

        def shape(t):
            return [int(d) for d in g.Tensors(t).ShapeAsNumpy()] if g.Tensors(t).ShapeLength() else []

        macs = 0
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            code = m.OperatorCodes(op.OpcodeIndex())
            name = names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "")
            if name not in MATMUL_OPS:
                continue
            ins, outs = op.InputsAsNumpy(), op.OutputsAsNumpy()
            n_out = int(np.prod(shape(outs[0])))
            w = shape(ins[1])
            if name == "FULLY_CONNECTED":      # weights [out, in]
                macs += n_out * w[-1]
            elif name == "CONV_2D":            # weights [cout, kh, kw, cin]
                macs += n_out * w[1] * w[2] * w[3]
            elif name == "DEPTHWISE_CONV_2D":  # weights [1, kh, kw, cout]
                macs += n_out * w[1] * w[2]
            else:                              # BATCH_MATMUL: a [..., M, K] (or [..., K, M] when adj_x)
                a = shape(ins[0])
                opts = fb.BatchMatMulOptions()
                t = op.BuiltinOptions()
                adj_x = False
                if t is not None:
                    opts.Init(t.Bytes, t.Pos)
                    adj_x = bool(opts.AdjX())
                macs += n_out * (a[-2] if adj_x else a[-1])
        out[sig] = 2 * macs
    return out


def unpack_model(flat: bytes):
    """The flatbuffer as the schema's object tree (``ModelT``), buffers stored after it inlined (else packing
    loses them)."""
    from ai_edge_litert import schema_py_generated as fb

    m = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(flat, 0))
    for b in m.buffers:
        if b.offset and b.offset > 1:
            b.data = np.frombuffer(flat[b.offset:b.offset + b.size], np.uint8)
            b.offset = b.size = 0
    return m


def pack_model(m, size_hint: int = 1 << 20) -> bytes:
    import flatbuffers

    b = flatbuffers.Builder(size_hint)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


CONTROL_FLOW = ("IF", "WHILE", "CALL_ONCE")  # ops that name subgraphs by index


def signature_first(flat: bytes, signature: str) -> bytes:
    """The same model with ``signature``'s subgraph moved first: LiteRT's Python API lists the ops (and so
    XNNPACK's coverage) of the first subgraph only, which is another signature's in a multi-signature file."""
    from ai_edge_litert import schema_py_generated as fb

    m = fb.Model.GetRootAsModel(flat, 0)
    sigs = {m.SignatureDefs(i).SignatureKey().decode(): m.SignatureDefs(i).SubgraphIndex()
            for i in range(m.SignatureDefsLength())}
    if signature not in sigs:
        raise LsmEdgeError(f"no signature {signature!r} in the file (it has: {', '.join(sigs) or 'none'})")
    si = sigs[signature]
    if si == 0:
        return flat
    names = _builtin_names(fb)
    codes = {names.get(max(m.OperatorCodes(i).BuiltinCode(), m.OperatorCodes(i).DeprecatedBuiltinCode()))
             for i in range(m.OperatorCodesLength())}
    if codes & set(CONTROL_FLOW):
        raise LsmEdgeError(f"the file has control flow ({', '.join(sorted(codes & set(CONTROL_FLOW)))}): its "
                           "subgraphs cannot be reordered")
    t = unpack_model(flat)
    t.subgraphs[0], t.subgraphs[si] = t.subgraphs[si], t.subgraphs[0]
    for sd in t.signatureDefs:
        sd.subgraphIndex = {0: si, si: 0}.get(sd.subgraphIndex, sd.subgraphIndex)
    return pack_model(t, len(flat) + 1024)


def signature_coverage(flat: bytes, signature: str) -> dict:
    """XNNPACK's coverage (:func:`xnnpack_coverage`) of one signature's subgraph, after one call."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=signature_first(flat, signature), num_threads=1)
    runner = interp.get_signature_runner(signature)
    runner(**example_inputs(runner.get_input_details(), np.random.default_rng(0)))
    edges = {d["index"] for d in interp.get_input_details()} | {d["index"] for d in interp.get_output_details()}
    inner = [o for o in interp._get_ops_details() if o["op_name"] in ("QUANTIZE", "DEQUANTIZE")
             and not {int(t) for t in [*o["inputs"], *o["outputs"]]} & edges]
    return {**xnnpack_coverage(interp), "signature": signature, "inner_quantize": len(inner)}


def xnnpack_coverage(interp) -> dict:
    """Ops of the interpreter's primary subgraph that XNNPACK took vs left on reference kernels.

    After delegation the subgraph keeps its original nodes and appends one DELEGATE node per
    partition; a partition is what lies between the DELEGATE node's outputs and its inputs."""
    ops = interp._get_ops_details()
    original = [o for o in ops if o["op_name"] != "DELEGATE"]
    delegates = [o for o in ops if o["op_name"] == "DELEGATE"]
    producer = {int(t): o["index"] for o in original for t in o["outputs"]}
    by_index = {o["index"]: o for o in original}
    taken: set = set()
    for d in delegates:
        stop = {int(t) for t in d["inputs"]}
        todo = [int(t) for t in d["outputs"]]
        while todo:
            t = todo.pop()
            n = producer.get(t)
            if t in stop or n is None or n in taken:
                continue
            taken.add(n)
            todo += [int(i) for i in by_index[n]["inputs"] if i >= 0]
    xnn = Counter(by_index[n]["op_name"] for n in taken)
    ref = Counter(o["op_name"] for o in original if o["index"] not in taken)
    return {"partitions": len(delegates), "nodes": len(original), "xnnpack_nodes": len(taken),
            "xnnpack_ops": dict(xnn.most_common()), "reference_ops": dict(ref.most_common())}


def example_inputs(details: dict, rng) -> dict:
    """Valid inputs for a signature.  A self-contained signature (one input, ``values``: raw units): every
    feature inside its valid range, ~20 % NaN.  A core (``values`` in z-units and ``missing``): z ~ N(0, 1) and a
    mask with ~20% ones (quantized for an integer input)."""
    if list(details) == ["values"] and int(details["values"]["shape"][-1]) == schema.N_FEATURES:
        shape = tuple(int(s) for s in details["values"]["shape"])
        lo, hi = schema.valid_range()
        x = (lo + (hi - lo) * rng.uniform(0.3, 0.7, shape)).astype(np.float32)
        x[rng.random(shape) < 0.2] = np.nan
        return {"values": x}
    feeds = {}
    for name, d in details.items():
        shape, dtype = tuple(int(s) for s in d["shape"]), d["dtype"]
        x = (rng.random(shape) < 0.2).astype(np.float32) if "miss" in name or "mask" in name else \
            rng.standard_normal(shape).astype(np.float32)
        feeds[name] = quantize(x, tensor_quantization(d)) if np.issubdtype(dtype, np.integer) else x.astype(dtype)
    return feeds


def dequantize(a: np.ndarray, details: dict) -> np.ndarray:
    """A tensor LiteRT returned -> real values: an integer one through its scale and zero point, a float one
    unchanged."""
    return runtime.dequantize(a, tensor_quantization(details)) if np.issubdtype(a.dtype, np.integer) else a


def edge_nodes(meta: dict, signature: str = "impute") -> dict | None:
    """The nodes of a file's raw-unit edges (``edges.py``) in ``signature``: {"nodes", "off_xnnpack"} (None for a file
    without them)."""
    whole, core = meta.get("xnnpack", {}).get(signature), meta.get("xnnpack_core", {}).get(signature)
    if not whole or not core:
        return None
    return {"nodes": whole["nodes"] - core["nodes"],
            "off_xnnpack": (whole["nodes"] - whole["xnnpack_nodes"]) - (core["nodes"] - core["xnnpack_nodes"])}


# the metadata entry's name and the version convert writes: the runtime's, so a file and its reader agree (bump
# SUPPORTED_METADATA_VERSION in runtime.py on an incompatible change; the runtime refuses other versions)
METADATA_VERSION = SUPPORTED_METADATA_VERSION


def _output_shape(flat: bytes, signature: str, name: str) -> list:
    from ai_edge_litert.interpreter import Interpreter

    r = Interpreter(model_content=flat).get_signature_runner(signature)
    return [int(d) for d in r.get_output_details()[name]["shape"]]


def float_output_scale(flat: bytes, signature: str, name: str) -> float:
    """One step of an integer graph's float output ``name``: the scale of the int8 tensor it is dequantized from."""
    from .tflite import unpack_model

    m = unpack_model(flat)
    sig = next(s for s in m.signatureDefs if s.signatureKey in (signature.encode(), signature))
    g = m.subgraphs[sig.subgraphIndex]
    out = next(t.tensorIndex for t in sig.outputs if t.name in (name.encode(), name))
    producer = next(op for op in g.operators if out in list(op.outputs))
    return float(g.tensors[producer.inputs[0]].quantization.scale[0])


def io_quantization(flat: bytes) -> dict:
    """{signature: {"inputs"|"outputs": {name: {"dtype", "scale", "zero_point"}}}} of a file's integer tensors:
    real value = scale * (q - zero_point)."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=flat)
    out = {}
    for sig in it.get_signature_list():
        r = it.get_signature_runner(sig)
        out[sig] = {side: {k: tensor_quantization(d) for k, d in details.items()}
                    for side, details in (("inputs", r.get_input_details()), ("outputs", r.get_output_details()))}
    return out


def _fb():
    from ai_edge_litert import schema_py_generated as fb

    return fb


def add_metadata(flat: bytes, meta: dict) -> bytes:
    from .tflite import pack_model, unpack_model

    fb = _fb()
    m = unpack_model(flat)
    buf = fb.BufferT()
    buf.data = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    m.buffers.append(buf)
    md = fb.MetadataT()
    md.name = METADATA_NAME
    md.buffer = len(m.buffers) - 1
    m.metadata = (m.metadata or []) + [md]
    return pack_model(m, len(flat) + 1024)


def op_counts(flat: bytes) -> dict:
    """{op name: count} over all subgraphs (custom ops by their custom code)."""
    fb = _fb()
    m = fb.Model.GetRootAsModel(flat, 0)
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    codes = []
    for i in range(m.OperatorCodesLength()):
        c = m.OperatorCodes(i)
        code = max(c.BuiltinCode(), c.DeprecatedBuiltinCode())
        codes.append(c.CustomCode().decode() if code == fb.BuiltinOperator.CUSTOM else names.get(code, str(code)))
    counts: dict = {}
    for s in range(m.SubgraphsLength()):
        g = m.Subgraphs(s)
        for o in range(g.OperatorsLength()):
            name = codes[g.Operators(o).OpcodeIndex()]
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
