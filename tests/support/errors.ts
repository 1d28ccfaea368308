/** The errors a test expects, checked to be of the expected kind (a ForgeError unless told). */
import { ForgeError } from "@trtforge/core";
import { expect } from "vitest";

const isForgeError = (err: unknown): err is ForgeError => err instanceof ForgeError;

/** What `promise` rejects with; the test fails if it resolves or rejects with another kind. */
export async function rejection(promise: Promise<unknown>): Promise<ForgeError>;
export async function rejection<E>(promise: Promise<unknown>, isExpected: (err: unknown) => err is E): Promise<E>;
export async function rejection(promise: Promise<unknown>, isExpected: (err: unknown) => boolean = isForgeError): Promise<unknown> {
  let settled: { value: unknown } | undefined;
  try {
    settled = { value: await promise };
  } catch (err) {
    expect(isExpected(err), `rejected with ${String(err)}`).toBe(true);
    return err;
  }
  throw new Error(`expected a rejection, the promise resolved with ${String(settled.value)}`);
}

/** What `run` throws; the test fails if it returns or throws another kind. */
export function thrown(run: () => unknown): ForgeError;
export function thrown<E>(run: () => unknown, isExpected: (err: unknown) => err is E): E;
export function thrown(run: () => unknown, isExpected: (err: unknown) => boolean = isForgeError): unknown {
  try {
    run();
  } catch (err) {
    expect(isExpected(err), `threw ${String(err)}`).toBe(true);
    return err;
  }
  throw new Error("expected a throw, nothing was thrown");
}
