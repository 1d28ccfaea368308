/**
 * Progress of a long stage, as every library reports it (export, calibration, int8 selection,
 * accuracy, TensorRT build phases): the CLI draws one bar per `stage`. Loops that only count their
 * own batches take `onBatch(done, total)` instead and their caller names the stage.
 */
export interface ProgressEvent {
  stage: string;
  current: number;
  total: number;
  message?: string | undefined;
}

export type OnProgress = (event: ProgressEvent) => void;
