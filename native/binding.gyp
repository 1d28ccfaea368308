# One target, trtforge_trt<major>, from the single C++17 source tree in src/. scripts/build.mjs
# passes every variable (--trt_major=... etc.); the defaults below ask scripts/trt-probe.mjs the
# same questions, so `node-gyp rebuild` run by hand finds the same TensorRT (TENSORRT_ROOT, then
# /usr/include/<triplet> and /usr/lib/<triplet>) and CUDA (CUDA_HOME, then /usr/local/cuda).
{
  "variables": {
    "trt_major%": "<!(node scripts/trt-probe.mjs major)",
    "trt_include%": "<!(node scripts/trt-probe.mjs include)",
    "trt_lib%": "<!(node scripts/trt-probe.mjs lib)",
    "cuda_include%": "<!(node scripts/trt-probe.mjs cuda_include)",
    "cuda_lib%": "<!(node scripts/trt-probe.mjs cuda_lib)",
  },
  "targets": [
    {
      "target_name": "trtforge_trt<(trt_major)",
      "sources": ["<!@(node scripts/trt-probe.mjs sources)"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "TRTFORGE_TRT_MAJOR=<(trt_major)",
      ],
      # -isystem: TensorRT's and CUDA's headers are not ours to warn about (hundreds of
      # deprecation warnings inside NvInfer*.h on 10.x); warnings at our call sites still show.
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-isystem<(trt_include)", "-isystem<(cuda_include)"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["<!@(node scripts/trt-probe.mjs link_flags <(trt_lib) <(cuda_lib) <(trt_major))"],
    }
  ],
}
