/**
 * A toolchain table of its own, so that probe tests keep passing when the real pins move. The
 * pins match the real file at the time of writing.
 */
export const TOOLCHAIN_MD = `# Toolchain versions

| component | pinned | accepted | last exercised | how |
|---|---|---|---|---|
| \`node\` | 20.20.2 | ^20.19.0 \\|\\| ^22.12.0 \\|\\| >=24.0.0 | 2026-11-28 | run in CI |
| \`python\` | 3.11.7 | ~3.11.0 | — | never run |
| \`torch\` | 2.13.0 | 2.13.0 | — | never run |
| \`transformers\` | 5.23.0 | 5.23.0 | — | never run |
| \`onnx\` | 1.23.2 | 1.23.2 | — | never run |
| \`onnxruntime\` | 1.30.0 | 1.30.0 | — | never run |
| \`onnxscript\` | 0.7.2 | 0.7.2 | — | never run |
| \`onnxruntime-node\` | 1.30.0 | 1.30.0 | — | never run |
| \`cuda\` | 13.0 | >=12.0.0 | — | never run |
| \`tensorrt-10\` | 10.16.0 | ^10.0.0 | — | never run |
| \`tensorrt-11\` | 11.1.0 | ^11.0.0 | — | never run |
`;
