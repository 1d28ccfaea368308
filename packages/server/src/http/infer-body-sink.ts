import { JsonTextBounder, type BoundingReport } from "./json-text-bounder.js";
import type { BodySink } from "./read-body.js";

/** An infer body as the front passes it on: texts bounded, and the JSON header's new length. */
export interface BoundedInferBody extends BodySink {
  /** The Inference-Header-Content-Length of what end() returned (undefined: the body is all JSON). */
  headerLength(): number | undefined;
  report(): BoundingReport;
}

/**
 * The sink for an infer request's body: its JSON (all of it, or the first `headerLength` bytes
 * under the binary tensor extension) goes through a JsonTextBounder, which cuts each text of
 * `data` past `maxTextUnits`; the binary tensors after the header pass as they are (their size is
 * bounded by the body limit, and a cut would change the offsets the header states).
 */
export function boundedInferBody(headerLength: number | undefined, maxTextUnits: number): BoundedInferBody {
  const bounder = new JsonTextBounder(maxTextUnits);
  const binary: Buffer[] = [];
  let jsonLeft = headerLength ?? Number.POSITIVE_INFINITY;
  let jsonKept: number | undefined;
  let report: BoundingReport = { cutStrings: 0, keptBytes: 0, seenBytes: 0 };
  return {
    write(chunk) {
      if (jsonLeft >= chunk.length) {
        jsonLeft -= chunk.length;
        bounder.write(chunk);
        return;
      }
      if (jsonLeft > 0) {
        bounder.write(chunk.subarray(0, jsonLeft));
        binary.push(chunk.subarray(jsonLeft));
        jsonLeft = 0;
        return;
      }
      binary.push(chunk);
    },
    end() {
      const { json, report: bounded } = bounder.end();
      report = bounded;
      jsonKept = json.length;
      return binary.length === 0 ? json : Buffer.concat([json, ...binary]);
    },
    // A header cut short by the body's end keeps its declared length: the worker then says the body is too short.
    headerLength: () => (headerLength === undefined ? undefined : headerLength - (report.seenBytes - (jsonKept ?? report.seenBytes))),
    report: () => report,
  };
}
