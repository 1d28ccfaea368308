import { ForgeError, silentLogger, toForgeError } from "@trtforge/core";
import { resolveCurrent } from "@trtforge/model-store";
import type { ModelLease, ModelProvider } from "./admission.js";
import { openServedModel, warmUp, type OpenedModel, type OpenModelOptions } from "./served-model.js";
import type { ModelSource } from "./store-version.js";

export interface ModelSlotOptions extends OpenModelOptions {
  /** How often `<agent>/current` is read (fs.watch misses symlink swaps). Default 1000 ms. */
  pollMs?: number;
  /** After each switch to a new version (the old one is still draining). */
  onSwap?: (event: { agent: string; from: string; to: string }) => void;
  /** A new version that failed to open, verify or warm up: it is not served, the old one stays. */
  onSwapRefused?: (event: { agent: string; version: string; error: ForgeError }) => void;
}

interface Entry {
  model: OpenedModel;
  leases: number;
  drained?: () => void;
}

/**
 * One agent's served model that follows `<agent>/current`: a new version is opened, verified and
 * warmed up beside the old one, switched to atomically (the next batch uses it), and the old one
 * is disposed once its last batch has finished. A pinned `<agent>@<version>` never moves.
 */
export class ModelSlot implements ModelProvider {
  #entry: Entry;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #refused: string | undefined;
  #polling: Promise<void> | undefined;
  readonly #draining = new Set<Promise<void>>();

  private constructor(
    private readonly source: ModelSource,
    private readonly options: ModelSlotOptions,
    first: OpenedModel,
  ) {
    this.#entry = { model: first, leases: 0 };
  }

  /** Opens and warms up the first version; watches `current` unless a version is pinned. */
  static async open(source: ModelSource, options: ModelSlotOptions = {}): Promise<ModelSlot> {
    const model = await openServedModel(source, options);
    try {
      await warmUp(model);
    } catch (err) {
      await model.dispose();
      throw err;
    }
    const slot = new ModelSlot(source, options, model);
    if (source.version === undefined) slot.#arm();
    return slot;
  }

  get current(): OpenedModel {
    return this.#entry.model;
  }

  acquire(): ModelLease {
    const entry = this.#entry;
    entry.leases++;
    let released = false;
    return {
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.leases === 0) entry.drained?.();
      },
    };
  }

  #arm(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#polling = this.checkNow().finally(() => {
        this.#polling = undefined;
        this.#arm();
      });
    }, this.options.pollMs ?? 1000);
    this.#timer.unref();
  }

  /** Reads `current` once and swaps if it moved; what the poll timer does. A pinned version never moves. */
  async checkNow(): Promise<void> {
    const log = this.options.logger ?? silentLogger();
    const { agent } = this.source;
    if (this.source.version !== undefined) return;
    let target: string | undefined;
    try {
      const current = await resolveCurrent({
        agent,
        strict: false,
        ...(this.source.storeRoot === undefined ? {} : { root: this.source.storeRoot }),
      });
      target = current?.version;
    } catch (err) {
      log.warn({ agent, err }, "cannot read the current version; serving on");
      return;
    }
    if (this.#closed || target === undefined || target === this.#entry.model.version || target === this.#refused) return;
    let next: OpenedModel | undefined;
    try {
      next = await openServedModel({ ...this.source, version: target }, this.options);
      await warmUp(next);
    } catch (err) {
      await next?.dispose();
      const error = toForgeError(err);
      this.#refused = target;
      log.error({ agent, version: target, code: error.code, err: error.message }, "new version refused; the old one keeps serving");
      this.options.onSwapRefused?.({ agent, version: target, error });
      return;
    }
    if (this.#closed) {
      await next.dispose();
      return;
    }
    const old = this.#entry;
    this.#entry = { model: next, leases: 0 };
    this.#refused = undefined;
    log.info({ agent, from: old.model.version, to: next.version, backend: next.evidence.backend }, "switched version");
    this.options.onSwap?.({ agent, from: old.model.version, to: next.version });
    this.#retire(old);
  }

  #retire(entry: Entry): void {
    const drained = entry.leases === 0 ? Promise.resolve() : new Promise<void>((resolve) => (entry.drained = resolve));
    const done = drained.then(() => entry.model.dispose());
    this.#draining.add(done);
    void done.finally(() => this.#draining.delete(done));
  }

  /** Stops watching, waits for a swap in progress and for old versions to drain, disposes the current one once idle. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#polling;
    this.#retire(this.#entry);
    await Promise.all([...this.#draining]);
  }
}

export function openModelSlot(source: ModelSource, options: ModelSlotOptions = {}): Promise<ModelSlot> {
  return ModelSlot.open(source, options);
}
