"""trtforge_export: exports a local Hugging Face model folder to ONNX with PyTorch reference outputs.

Run as ``python -m trtforge_export --model DIR --out DIR ...``; stdout carries JSON lines only
(see :mod:`trtforge_export.protocol`).
"""

__version__ = "0.1.0"
