import type { AddonBinding } from "../../src/binding-types.js";

export type Outcome = { accepted: true } | { error: string; message: string };
export interface OptionCase {
  name: string;
  args: unknown[];
  expect: { accepted: true } | { error: string; message: string };
}
export function optionCases(major: number, onnxPath: string): OptionCase[];
export function outcome(addon: AddonBinding, args: unknown[]): Promise<Outcome>;
export function expected(expect: OptionCase["expect"], compiledVersion: string): Outcome;
export function runOptionTable(
  addon: AddonBinding,
  onnxPath: string,
): Promise<{ count: number; mismatches: { name: string; expected: Outcome; got: Outcome }[] }>;
