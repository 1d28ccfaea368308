/**
 * The order test files start in. Two workers share two cores, so a run lasts at least as long as its
 * longest file, and a long file started last leaves one core idle while it finishes alone. vitest's
 * own order (slowest first from its results cache, else the largest file first) knows nothing on a
 * fresh clone (CI) and file size says little of what a file does: the files named in `SLOWEST_FIRST`
 * (vitest.config.ts, measured with scripts/test-durations.mjs) start first, in that order; every other
 * file keeps vitest's order after them.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";
import { relative } from "node:path";

export function slowestFirst(order: readonly string[]): typeof BaseSequencer {
  return class SlowestFirstSequencer extends BaseSequencer {
    override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
      const base = await super.sort(files);
      const rank = (spec: TestSpecification) => {
        const index = order.indexOf(relative(this.ctx.config.root, spec.moduleId));
        return index === -1 ? order.length : index;
      };
      // Array.prototype.sort is stable: the files not named keep vitest's order.
      return base.sort((a, b) => rank(a) - rank(b));
    }
  };
}
