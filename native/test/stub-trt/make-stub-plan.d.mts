// Types of make-stub-plan.mjs for the TypeScript tests.
export interface StubPlanTensor {
  name: string;
  dtype: string;
  min_shape: number[];
  opt_shape: number[];
  max_shape: number[];
}
export interface StubPlanMetadata {
  model_id: string;
  precision: string;
  inputs: StubPlanTensor[];
  outputs: StubPlanTensor[];
}
export function stubPlanText(metadata: StubPlanMetadata): string;
export function stubPlan(metadata: StubPlanMetadata, version: string): Buffer;
