"""Splice the edge graphs (``edges.py``) around a converted core: one subgraph per signature, raw units in and out.

    core file:   impute(values, missing) -> values          (z- or u-units, float or int8 tensors)
    edges file:  pre_impute(values) -> values, missing      post_impute(values, core_values) -> values, invalid
    result:      impute(values) -> values, invalid          pre ops, then the core's ops, then post ops

Works on the flatbuffer's object tree (``ai_edge_litert.schema_py_generated``): each signature's subgraph gets the
edge subgraphs' tensors and operators appended around its own, with tensor, buffer and opcode indices renumbered.
A pre output feeds the core input of the same name (or, named otherwise, the post input ``pre_<name>``), and a
post input ``core_<name>`` reads the core output ``<name>``.  Where the two sides differ in type (a core with int8 inputs and outputs), a QUANTIZE or DEQUANTIZE
node with the core tensor's own scale and zero point joins them.  Nothing here changes the core's ops: the
converter's quantization and XNNPACK coverage of the core are what they were.
"""

from __future__ import annotations

import numpy as np

from ..errors import LsmEdgeError


def _fb():
    from ai_edge_litert import schema_py_generated as fb

    return fb


def _signatures(m) -> dict:
    """{signature name: SignatureDefT} of a ModelT."""
    return {_name(s.signatureKey): s for s in (m.signatureDefs or [])}


def _name(x) -> str:
    return x.decode() if isinstance(x, bytes) else x


class _Appender:
    """Copies subgraphs of another model into ``m``: its buffers and opcodes appended once, indices renumbered."""

    def __init__(self, m, other):
        self.m, self.other = m, other
        self.buffers = {0: 0}
        self.opcodes = {}

    def buffer(self, b: int) -> int:
        data = self.other.buffers[b].data
        if data is None or not len(data):  # a tensor computed at run time: the shared empty buffer 0
            return 0
        if b not in self.buffers:
            self.m.buffers.append(self.other.buffers[b])
            self.buffers[b] = len(self.m.buffers) - 1
        return self.buffers[b]

    def opcode(self, i: int) -> int:
        if i not in self.opcodes:
            self.opcodes[i] = opcode_index(self.m, self.other.operatorCodes[i])
        return self.opcodes[i]


def opcode_index(m, code) -> int:
    """The index of ``code`` (an OperatorCodeT) in ``m``'s operator codes, appended when absent."""
    key = (code.builtinCode, code.deprecatedBuiltinCode, code.version, code.customCode)
    for i, c in enumerate(m.operatorCodes):
        if (c.builtinCode, c.deprecatedBuiltinCode, c.version, c.customCode) == key:
            return i
    m.operatorCodes.append(code)
    return len(m.operatorCodes) - 1


def _builtin_opcode(m, op: int) -> int:
    fb = _fb()
    code = fb.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = op, min(op, 127), 1
    return opcode_index(m, code)


def stitch(core: bytes, edges: bytes) -> bytes:
    """-> ``core`` with every signature ``S`` wrapped by the ``edges`` signatures ``pre_S`` (required) and ``post_S``
    (where present): its inputs become ``pre_S``'s, its outputs ``post_S``'s (with the core outputs ``post_S`` does
    not read kept as they are); operators no output depends on are dropped."""
    from .tflite import pack_model, unpack_model

    fb = _fb()
    m, e = unpack_model(core), unpack_model(edges)
    esigs = _signatures(e)
    add = _Appender(m, e)
    for name, sig in _signatures(m).items():
        if f"pre_{name}" not in esigs:
            raise LsmEdgeError(f"no edge graph pre_{name} for the signature {name!r}")
        g = m.subgraphs[sig.subgraphIndex]
        core_in = {_name(t.name): t.tensorIndex for t in sig.inputs}
        core_out = {_name(t.name): t.tensorIndex for t in sig.outputs}
        pre, post = esigs[f"pre_{name}"], esigs.get(f"post_{name}")
        pre_ops, pre_map, pre_outs = _copy(g, e, add, pre, {})
        # pre outputs -> the core inputs of the same name (retyped through QUANTIZE where the core takes integers);
        # the others are for the post graph (its inputs pre_<name>)
        aux = {}
        for out_name, t in pre_outs.items():
            if out_name in core_in:
                joined = _join(m, g, pre_ops, t, core_in[out_name])
                pre_ops += joined
                aux[out_name] = t if joined else core_in[out_name]
            else:
                aux[out_name] = t
        raw = pre_map[pre.inputs[0].tensorIndex]
        new_outputs = dict(core_out)
        post_ops = []
        if post is not None:
            bind = {}
            for t in post.inputs:
                k = _name(t.name)
                if k == "values":
                    bind[t.tensorIndex] = raw
                elif k.startswith("pre_") and k[4:] in aux:
                    bind[t.tensorIndex] = aux[k[4:]]
                elif k.startswith("core_") and k[5:] in core_out:
                    src = core_out[k[5:]]
                    if g.tensors[src].type != fb.TensorType.FLOAT32:  # an integer core output: DEQUANTIZE it
                        f = _float_tensor(g, g.tensors[src], f"{k}_float")
                        post_ops += [_op(m, fb.BuiltinOperator.DEQUANTIZE, [src], [f])]
                        src = f
                    bind[t.tensorIndex] = src
                else:
                    raise LsmEdgeError(f"post_{name} takes {k!r}; expected values, pre_<one of {', '.join(aux)}> "
                                       f"or core_<one of {', '.join(core_out)}>")
            ops, _, outs = _copy(g, e, add, post, bind)
            post_ops += ops
            read = {k[5:] for k in (_name(t.name) for t in post.inputs) if k.startswith("core_")}
            new_outputs = {k: v for k, v in core_out.items() if k not in read}
            new_outputs.update(outs)
        g.inputs = [raw]
        g.outputs = list(new_outputs.values())
        g.operators = _live(pre_ops + list(g.operators) + post_ops, g.outputs)
        sig.inputs = [_tensor_map("values", raw)]
        sig.outputs = [_tensor_map(k, v) for k, v in new_outputs.items()]
    return pack_model(m, len(core) + len(edges) + (1 << 16))


def _live(ops: list, outputs) -> list:
    """The operators an output depends on, in order (a core output that the post graph replaced, such as an integer
    core's own pooled embedding, is not computed at all)."""
    needed, keep = set(int(i) for i in outputs), []
    for op in reversed(ops):
        if needed & {int(i) for i in op.outputs}:
            keep.append(op)
            needed |= {int(i) for i in op.inputs if i >= 0}
    return keep[::-1]


def _copy(g, e, add: _Appender, esig, bind: dict):
    """Append the tensors and operators of ``esig``'s subgraph (of model ``e``) to subgraph ``g``; tensors in
    ``bind`` are replaced by ``g``'s own.  -> (operators, {edge tensor: g tensor}, {output name: g tensor})."""
    src = e.subgraphs[esig.subgraphIndex]
    index = dict(bind)
    for i, t in enumerate(src.tensors):
        if i not in index:
            if t.buffer:
                t.buffer = add.buffer(t.buffer)
            t.name = f"{_name(esig.signatureKey)}/{i}"  # the converter's long names would grow a small file by ~20 KB
            g.tensors.append(t)
            index[i] = len(g.tensors) - 1
    ops = []
    for op in src.operators:
        op.opcodeIndex = add.opcode(op.opcodeIndex)
        op.inputs = [index[int(i)] if i >= 0 else int(i) for i in op.inputs]
        op.outputs = [index[int(i)] for i in op.outputs]
        if op.intermediates is not None and len(op.intermediates):
            op.intermediates = [index[int(i)] for i in op.intermediates]
        ops.append(op)
    return ops, index, {_name(t.name): index[t.tensorIndex] for t in esig.outputs}


def _join(m, g, ops: list, src: int, dst: int) -> list:
    """Make ``dst`` (a core input) hold what ``src`` (a pre output) computes: where the types agree, ``ops`` read
    and write ``dst`` in place of ``src``; else -> [a QUANTIZE node from ``src`` onto ``dst``] (which carries the
    core input's scale and zero point)."""
    fb = _fb()
    if g.tensors[src].type == g.tensors[dst].type:
        for op in ops:
            op.inputs = [dst if int(i) == src else int(i) for i in op.inputs]
            op.outputs = [dst if int(i) == src else int(i) for i in op.outputs]
        return []
    if g.tensors[src].type != fb.TensorType.FLOAT32:
        raise LsmEdgeError("an edge graph returned a non-float tensor")
    return [_op(m, fb.BuiltinOperator.QUANTIZE, [src], [dst])]


def _float_tensor(g, like, name: str) -> int:
    fb = _fb()
    t = fb.TensorT()
    t.shape = np.array(like.shape, np.int32)
    t.type = fb.TensorType.FLOAT32
    t.name = name
    t.buffer = 0
    g.tensors.append(t)
    return len(g.tensors) - 1


def _op(m, builtin: int, inputs, outputs):
    fb = _fb()
    op = fb.OperatorT()
    op.opcodeIndex = _builtin_opcode(m, builtin)
    op.inputs, op.outputs = list(inputs), list(outputs)
    return op


def _tensor_map(name: str, index: int):
    fb = _fb()
    t = fb.TensorMapT()
    t.name, t.tensorIndex = name, index
    return t
