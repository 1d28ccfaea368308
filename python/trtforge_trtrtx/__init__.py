"""TensorRT-RTX through its Python bindings: parse an ONNX, build an engine ahead of time, try a load.

TensorRT-RTX ships no public C++ headers on PyPI (only the shared libraries and the Python
bindings), so the project drives it from Python rather than from the native addon. It compiles
with no GPU and no driver present; its plans run on the compute capabilities it was told to target.
"""
