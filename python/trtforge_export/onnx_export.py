"""torch -> ONNX with the dynamo exporter, made deterministic and checked.

The dynamo (torch.export) exporter is torch 2.13's default. It writes opset 18 natively; a lower
opset is reached afterwards with onnxscript's version converter (the exporter's own conversion
runs before constant folding and fails on Reduce* axes). Below 17 LayerNormalization does not
exist, so nn.LayerNorm is decomposed before export.
The node metadata the exporter adds (stack traces with file paths, FX node names) is stripped so
the same model, versions and options give a byte-identical model.onnx on any machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import onnx
import onnx_ir as ir
import onnxscript.version_converter as version_converter
import torch

from .errors import ExportError
from .wrapper import ExportWrapper, decomposed_layer_norms

ONNX_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"
NATIVE_OPSET = 18
# One protobuf file cannot exceed 2 GiB; leave room for the graph itself.
PROTOBUF_LIMIT_BYTES = 2**31 - 64 * 2**20
BATCH, SEQUENCE = "batch", "sequence"

# Seq-axis outputs: (batch, sequence, ...). Every other output is (batch, ...).
SEQUENCE_OUTPUTS = frozenset({"last_hidden_state"})

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnnxResult:
    onnx_path: Path
    data_path: Path | None
    opset: int


def weight_bytes(module: torch.nn.Module) -> int:
    seen: set[int] = set()
    total = 0
    for t in list(module.parameters()) + list(module.buffers()):
        if id(t) not in seen:
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total


def choose_external(mode: str, nbytes: int) -> bool:
    if mode == "always":
        return True
    if nbytes > PROTOBUF_LIMIT_BYTES:
        if mode == "never":
            raise ExportError("BAD_INPUT",
                              f"the weights take {nbytes / 2**30:.2f} GiB, more than one ONNX file can hold (2 GiB)",
                              "use --external-data auto or always")
        return True
    return False


def export_onnx(
    wrapper: ExportWrapper,
    example: tuple[torch.Tensor, ...],
    input_names: tuple[str, ...],
    output_names: tuple[str, ...],
    opset: int,
    out_dir: Path,
    external: bool,
    on_step: Callable[[int, str], None],
) -> OnnxResult:
    wrapper.eval()
    batch = torch.export.Dim(BATCH)
    sequence = torch.export.Dim(SEQUENCE)
    dynamic_shapes = tuple({0: batch, 1: sequence} for _ in input_names)
    on_step(0, f"torch.onnx.export (dynamo) at opset {max(opset, NATIVE_OPSET)}")
    with decomposed_layer_norms(wrapper) if opset < 17 else _nothing() as swapped:
        if swapped:
            _log.info("decomposed %d LayerNorm modules for opset %d", swapped, opset)
        try:
            program = torch.onnx.export(
                wrapper,
                example,
                input_names=list(input_names),
                output_names=list(output_names),
                opset_version=max(opset, NATIVE_OPSET),
                dynamo=True,
                dynamic_shapes=dynamic_shapes,
                optimize=True,
                verify=False,
                report=False,
            )
        except Exception as e:
            raise ExportError("TASK_UNSUPPORTED", f"torch.onnx.export failed: {type(e).__name__}: {_first_line(e)}",
                              "see stderr for the exporter's trace; the architecture may not be exportable") from e
    if program is None:  # pragma: no cover - only the TorchScript exporter returns None
        raise ExportError("INTERNAL", "torch.onnx.export returned no program", "report a bug")
    model: ir.Model = program.model
    if opset < NATIVE_OPSET:
        on_step(1, f"converting opset {NATIVE_OPSET} -> {opset}")
        # onnx's converter has no 15 -> 14 adapter for Shape: stop at 15 and lower the rest here.
        version_converter.convert_version(model, max(opset, 15), fallback=True)
        if opset == 14 and model.opset_imports.get("", None) == 15:
            _lower_15_to_14(model)
        got = model.opset_imports.get("", None)
        if got != opset:
            raise ExportError("TASK_UNSUPPORTED",
                              f"the graph cannot be expressed in opset {opset} (conversion stopped at {got})",
                              f"use --opset {NATIVE_OPSET} or later")
        _fix_reduce_attributes(model, opset)
    _strip_metadata(model)
    _name_dynamic_axes(model, input_names)
    on_step(2, "saving " + (f"{ONNX_FILE} + {DATA_FILE}" if external else ONNX_FILE))
    onnx_path = out_dir / ONNX_FILE
    data_path = out_dir / DATA_FILE if external else None
    ir.save(model, onnx_path, external_data=DATA_FILE if external else None)
    return OnnxResult(onnx_path=onnx_path, data_path=data_path, opset=opset)


def check_onnx(path: Path) -> None:
    """onnx.checker on the path (so external data works), with full shape inference."""
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except Exception as e:
        raise ExportError("INTERNAL", f"onnx.checker rejected the export: {_first_line(e)}",
                          "see stderr; report a bug with the model's config.json") from e


def describe_io(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """inputs and outputs as the report lists them, read back from the written file."""
    proto = onnx.load(str(path), load_external_data=False)

    def one(v: onnx.ValueInfoProto) -> dict[str, Any]:
        t = v.type.tensor_type
        shape: list[str | int] = []
        axes: dict[str, str] = {}
        for i, d in enumerate(t.shape.dim):
            if d.HasField("dim_param"):
                shape.append(d.dim_param)
                axes[str(i)] = d.dim_param
            else:
                shape.append(int(d.dim_value))
        dtype = onnx.helper.tensor_dtype_to_np_dtype(t.elem_type).name
        return {"name": v.name, "dtype": dtype, "dynamic_axes": axes, "shape": shape}

    return [one(v) for v in proto.graph.input], [one(v) for v in proto.graph.output]


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class _nothing:
    def __enter__(self) -> int:
        return 0

    def __exit__(self, *exc: object) -> None:
        return None


def _all_graphs(model: ir.Model) -> list[ir.Graph | ir.Function]:
    graphs: list[ir.Graph | ir.Function] = [model.graph]
    graphs.extend(model.functions.values())
    return graphs


def _all_nodes(model: ir.Model) -> list[ir.Node]:
    nodes: list[ir.Node] = []
    for g in _all_graphs(model):
        nodes.extend(ir.traversal.RecursiveGraphIterator(g))
    return nodes


def _fix_reduce_attributes(model: ir.Model, opset: int) -> None:
    """onnx's converter leaves noop_with_empty_axes on Reduce* ops that only have it from opset 18
    (ReduceSum has it since 13). Its default 0 is what the older ops do, so drop it; refuse 1."""
    for node in _all_nodes(model):
        if node.domain in ("", "ai.onnx") and node.op_type.startswith("Reduce") and node.op_type != "ReduceSum":
            attr = node.attributes.get("noop_with_empty_axes")
            if attr is None:
                continue
            if attr.value:
                raise ExportError("TASK_UNSUPPORTED", f"{node.op_type} with noop_with_empty_axes=1 has no opset {opset} form",
                                  f"use --opset {NATIVE_OPSET} or later")
            del node.attributes["noop_with_empty_axes"]


def _lower_15_to_14(model: ir.Model) -> None:
    """Opset 15 -> 14. Of the ops that changed in 15 only Shape is handled: Shape(start, end)
    becomes Shape + Slice. Any other op whose opset-15 form is new is refused."""
    graph = model.graph
    for index, node in enumerate(list(graph)):
        if node.domain not in ("", "ai.onnx"):
            continue
        if node.op_type == "Shape":
            start_attr = node.attributes.get("start")
            end_attr = node.attributes.get("end")
            start = int(start_attr.value) if start_attr is not None else 0
            if end_attr is None and start == 0:
                node.attributes.pop("start", None)
                continue
            end = int(end_attr.value) if end_attr is not None else 2**63 - 1
            old = node.outputs[0]
            base = old.name or f"shape_{index}"
            whole = ir.Node("", "Shape", [node.inputs[0]], name=f"{node.name}_opset14")
            whole.outputs[0].name = f"{base}_full"
            consts = []
            for suffix, value in (("starts", start), ("ends", end), ("axes", 0)):
                const = ir.Value(name=f"{base}_{suffix}", const_value=ir.tensor([value], dtype=ir.DataType.INT64))
                const.shape = ir.Shape([1])
                const.type = ir.TensorType(ir.DataType.INT64)
                graph.register_initializer(const)
                consts.append(const)
            sliced = ir.Node("", "Slice", [whole.outputs[0], *consts], name=f"{node.name}_slice_opset14")
            graph.insert_after(node, [whole, sliced])
            old.replace_all_uses_with(sliced.outputs[0], replace_graph_outputs=True)
            graph.remove(node, safe=True)
            sliced.outputs[0].name = base
            sliced.outputs[0].shape = old.shape
            sliced.outputs[0].type = old.type
    for g in _all_graphs(model):
        for node in ir.traversal.RecursiveGraphIterator(g):
            if node.domain not in ("", "ai.onnx"):
                continue
            if node.op_type == "Shape":
                attrs = {k: int(a.value) for k, a in node.attributes.items()}
                if attrs and attrs != {"start": 0}:
                    raise ExportError("TASK_UNSUPPORTED", "Shape with start/end inside a subgraph has no opset 14 form here",
                                      "use --opset 15 or later")
                node.attributes.pop("start", None)
            elif onnx.defs.get_schema(node.op_type, 15, "").since_version == 15:
                raise ExportError("TASK_UNSUPPORTED", f"{node.op_type} changed in opset 15 and has no opset 14 form here",
                                  "use --opset 15 or later")
    model.opset_imports[""] = 14


def _strip_metadata(model: ir.Model) -> None:
    model.doc_string = None
    model.metadata_props.clear()
    for g in _all_graphs(model):
        g.doc_string = None
        g.metadata_props.clear()
        values: list[ir.Value] = list(g.inputs) + list(g.outputs)
        if isinstance(g, ir.Graph):
            values.extend(g.initializers.values())
        for node in ir.traversal.RecursiveGraphIterator(g):
            node.doc_string = None
            node.metadata_props.clear()
            values.extend(node.outputs)
        for v in values:
            v.doc_string = None
            v.metadata_props.clear()


def _name_dynamic_axes(model: ir.Model, input_names: tuple[str, ...]) -> None:
    """Inputs must be (batch, sequence); outputs get the same names on their dynamic axes."""
    for v in model.graph.inputs:
        names = [str(d) for d in v.shape] if v.shape is not None else []
        if v.name not in input_names or names != [BATCH, SEQUENCE]:
            raise ExportError("INTERNAL", f"exported input {v.name} has shape {names}, expected [batch, sequence]",
                              "report a bug with the model's config.json")
    for v in model.graph.outputs:
        if v.shape is None or len(v.shape) < 1:
            raise ExportError("INTERNAL", f"exported output {v.name} has no shape", "report a bug")
        dims: list[int | ir.SymbolicDim] = []
        for i, d in enumerate(v.shape):
            if i == 0:
                dims.append(ir.SymbolicDim(BATCH))
            elif i == 1 and v.name in SEQUENCE_OUTPUTS:
                dims.append(ir.SymbolicDim(SEQUENCE))
            elif isinstance(d, int):
                dims.append(d)
            else:
                raise ExportError("INTERNAL", f"exported output {v.name} has an unexpected dynamic axis {i} ({d})",
                                  "report a bug with the model's config.json")
        v.shape = ir.Shape(dims)
