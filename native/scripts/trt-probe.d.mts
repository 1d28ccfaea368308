// Types of trt-probe.mjs for the TypeScript tests.
export interface TrtVersion {
  major: number;
  minor: number;
  patch: number;
  build: number;
  version: string;
}
export interface ProbeDeps {
  env?: NodeJS.ProcessEnv;
  exists?: (path: string) => boolean;
  readFile?: (path: string) => string;
  arch?: string;
}
export type TensorRTProbe =
  | { found: true; includeDir: string; libDir: string; parserLibDir: string; version: TrtVersion; linkFlags: string[]; reason?: undefined }
  | { found: false; reason: string };
export type CudaProbe = { found: true; includeDir: string; libDir: string; reason?: undefined } | { found: false; reason: string };
export function multiarchTriplet(arch?: string): string;
export function readTrtVersion(text: string): TrtVersion | undefined;
export function findTensorRT(deps?: ProbeDeps): TensorRTProbe;
export function findCuda(deps?: ProbeDeps): CudaProbe;
export function linkFlags(trtLib: string, cudaLib: string, major: string | number, exists?: (path: string) => boolean): string[];
export function sourceFiles(): string[];
