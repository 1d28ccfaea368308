/**
 * Writes the byte layout of a TensorRT plan header as documented (trtexec --getPlanVersionOnly):
 * "ftrt" at 0, version bytes major.minor.patch.build at 24..27. No real plan can be built on a
 * machine without TensorRT, so tests use these layouts; the rest of the bytes are arbitrary.
 */
export function planBytes(version: [number, number, number, number], size = 4096): Buffer {
  const bytes = Buffer.alloc(Math.max(size, 28), 0xa5);
  bytes.write("ftrt", 0, "ascii");
  bytes.set(version, 24);
  return bytes;
}
