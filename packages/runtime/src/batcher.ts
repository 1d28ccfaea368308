import { performance } from "node:perf_hooks";
import { ForgeError, silentLogger, type Logger } from "@trtforge/core";
import type { AdmittedBatch } from "./admission.js";
import type { BatchReport, InferResult, OutputTensor, ServedModel, TokenRows } from "./contract.js";
import { DEFAULT_EXECUTION_COST, type ExecutionCost } from "./execution-cost.js";
import { lengthGroups } from "./length-groups.js";
import { mergeRows, rowAlone, sliceRows, stackRows } from "./token-rows.js";

export interface BatcherOptions {
  /** How long the oldest queued request may wait for others to join its batch. */
  maxQueueDelayMs: number;
  /** Requests waiting (not yet executing) beyond which new ones are refused with OVERLOADED. */
  maxQueue: number;
  /**
   * The execution cost the batcher groups rows by length with (lengthGroups): a merge is taken where
   * the padding it adds costs less than the execution it saves. Default the model's measured cost
   * (ServedModel.executionCost), else DEFAULT_EXECUTION_COST for its backend.
   */
  executionCost?: ExecutionCost;
  /** Called after every executed batch, for metrics. */
  onBatch?: (report: BatchReport) => void;
  logger?: Logger;
}

export interface Batcher {
  /**
   * Runs an admitted request on the version that admitted it, merged with others admitted by the
   * same version, and releases its lease once it is answered (or refused).
   */
  infer(request: AdmittedBatch): Promise<InferResult>;
  /** Requests queued and not yet executing. */
  readonly pending: number;
  /** Whether a batch is executing or requests are queued. */
  readonly busy: boolean;
  /** Refuses new requests (MODEL_CLOSED), finishes every queued and executing one, then resolves. */
  close(): Promise<void>;
}

interface Queued {
  request: AdmittedBatch;
  enqueuedAt: number;
  resolve(result: InferResult): void;
  reject(error: unknown): void;
}

/**
 * What one execution takes of a request: the whole request, or (where padding costs) one of its rows
 * cut to its own length, so that a request of texts of mixed lengths is grouped by length like
 * requests are, not padded to its longest text.
 */
interface Piece {
  owner: Collecting;
  /** Position among the owner's pieces (its row, for a split request). */
  index: number;
  tokens: TokenRows;
}

/** A request taken for execution, collecting its pieces' outputs until the last one is back. */
interface Collecting {
  queued: Queued;
  outputs: OutputTensor[][];
  remaining: number;
  split: boolean;
  /** Its queue wait goes into the first batch report that includes it, once. */
  queueReported: boolean;
  failed: boolean;
}

/** The pad id the tokenizer used: any input id under a zero attention mask (0 when nothing is padded). */
function padIdOf(parts: readonly TokenRows[]): bigint {
  for (const part of parts) {
    const at = part.attentionMask.indexOf(0n);
    if (at !== -1) return part.inputIds[at]!;
  }
  return 0n;
}

/** The outputs asked for (admission checked that the model has them), in the order asked. */
function pick(outputs: readonly OutputTensor[], names: readonly string[] | undefined): OutputTensor[] {
  if (names === undefined) return [...outputs];
  return names.map((name) => outputs.find((o) => o.name === name)!);
}

/**
 * Dynamic batching for one agent: while the model is busy, or for up to maxQueueDelayMs, admitted
 * requests queue; then up to the model's maximum batch of those admitted by the oldest one's
 * version are taken (a batch never mixes versions: across a hot swap, tokens of version N run on
 * version N only), split by length where the backend
 * pays for padding (lengthGroups, by the model's execution cost), each group merged at its longest sequence, and each request gets
 * back exactly its rows (and its own sequence length for per-token outputs). One execution runs at a
 * time; the queue is bounded.
 */
export function createBatcher(options: BatcherOptions): Batcher {
  const log = options.logger ?? silentLogger();
  const queue: Queued[] = [];
  let executing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function schedule(): void {
    if (executing !== undefined || queue.length === 0) return;
    const { model } = queue[0]!.request;
    const queuedRows = queue.reduce((n, q) => n + (q.request.model === model ? q.request.tokens.rows : 0), 0);
    const waited = performance.now() - queue[0]!.enqueuedAt;
    if (queuedRows >= model.profile.batch.max || waited >= options.maxQueueDelayMs || closed) {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      executing = execute().finally(() => {
        executing = undefined;
        schedule();
      });
      return;
    }
    timer ??= setTimeout(
      () => {
        timer = undefined;
        schedule();
      },
      Math.max(0, options.maxQueueDelayMs - waited),
    );
  }

  /**
   * Takes the oldest request and, in arrival order, those admitted by the same version up to its
   * maximum batch; requests of another version keep their places for a later batch.
   */
  function dequeue(): { model: ServedModel; taken: Queued[] } {
    const { model } = queue[0]!.request;
    const taken: Queued[] = [];
    let rows = 0;
    for (let at = 0; at < queue.length;) {
      const next = queue[at]!;
      if (next.request.model !== model) {
        at += 1;
        continue;
      }
      if (taken.length > 0 && rows + next.request.tokens.rows > model.profile.batch.max) break;
      queue.splice(at, 1);
      taken.push(next);
      rows += next.request.tokens.rows;
    }
    return { model, taken };
  }

  async function execute(): Promise<void> {
    const { model, taken } = dequeue();
    const padId = padIdOf(taken.map((q) => q.request.tokens));
    const cost = options.executionCost ?? model.executionCost ?? DEFAULT_EXECUTION_COST[model.evidence.backend];
    // A model that runs its rows alone anyway gains nothing from a merged, padded batch; where an
    // execution costs more than any padding (TensorRT's default) requests stay whole; otherwise rows
    // are grouped by length.
    const splitRows = model.rowsIndependent !== false && cost.fixedMs !== Number.POSITIVE_INFINITY;
    const pieces = taken.flatMap((q) => piecesOf(q, splitRows));
    const groups = model.rowsIndependent === false ? pieces.map((piece) => [piece]) : lengthGroups(pieces, (piece) => piece.tokens, cost);
    for (const group of groups) await runGroup(model, group, padId);
  }

  /** A request as one piece, or, when it has rows of different lengths and may be split, one piece per row. */
  function piecesOf(queued: Queued, splitRows: boolean): Piece[] {
    const { tokens } = queued.request;
    const rows = splitRows && tokens.rows > 1 ? Array.from({ length: tokens.rows }, (_, r) => rowAlone(tokens, r)) : [];
    const split = rows.some((row) => row.seqLen !== tokens.seqLen);
    const owner: Collecting = {
      queued,
      outputs: [],
      remaining: split ? rows.length : 1,
      split,
      queueReported: false,
      failed: false,
    };
    if (!split) return [{ owner, index: 0, tokens }];
    return rows.map((row, index) => ({ owner, index, tokens: row }));
  }

  /** A piece's outputs are back; the owner is answered when its last piece is, rows in their order. */
  function deliver(model: ServedModel, piece: Piece, outputs: OutputTensor[]): void {
    const { owner } = piece;
    if (owner.failed) return;
    owner.outputs[piece.index] = outputs;
    owner.remaining -= 1;
    if (owner.remaining > 0) return;
    const { request } = owner.queued;
    try {
      const whole = owner.split
        ? stackRows(
            owner.outputs,
            owner.outputs.map((_, r) => rowAlone(request.tokens, r).seqLen),
            request.tokens.seqLen,
          )
        : owner.outputs[0]!;
      owner.queued.resolve({ outputs: pick(whole, request.outputs), evidence: model.evidence });
    } catch (err) {
      fail(owner, err);
    }
  }

  function fail(owner: Collecting, err: unknown): void {
    if (owner.failed) return;
    owner.failed = true;
    owner.queued.reject(err);
  }

  /** One execution: the group's rows merged at its longest length, each piece given back its own rows. */
  async function runGroup(model: ServedModel, group: readonly Piece[], padId: bigint): Promise<void> {
    const started = performance.now();
    const parts = group.map((piece) => piece.tokens);
    const rows = parts.reduce((n, p) => n + p.rows, 0);
    const seqLen = Math.max(...parts.map((p) => p.seqLen));
    const owners = [...new Set(group.map((piece) => piece.owner))];
    const firstReports = owners.filter((owner) => !owner.queueReported);
    for (const owner of firstReports) owner.queueReported = true;
    const report = (ok: boolean): BatchReport => ({
      agent: model.agent,
      version: model.version,
      backend: model.evidence.backend,
      requests: owners.length,
      rows,
      seqLen,
      queueSeconds: firstReports.map((owner) => (started - owner.queued.enqueuedAt) / 1000),
      computeSeconds: (performance.now() - started) / 1000,
      ok,
    });
    try {
      const merged = group.length === 1 ? parts[0]! : mergeRows(parts, seqLen, padId);
      const outputs = await model.run(merged);
      const done = report(true);
      let first = 0;
      for (const piece of group) {
        const own = piece.tokens;
        try {
          deliver(
            model,
            piece,
            outputs.map((o) => sliceRows(o, first, own.rows, own.seqLen, seqLen)),
          );
        } catch (err) {
          fail(piece.owner, err);
        }
        first += own.rows;
      }
      options.onBatch?.(done);
    } catch (err) {
      log.warn({ agent: model.agent, version: model.version, requests: owners.length, rows, err }, "batch failed");
      for (const owner of owners) fail(owner, err);
      options.onBatch?.(report(false));
    }
  }

  return {
    infer(request: AdmittedBatch): Promise<InferResult> {
      if (closed) {
        request.release();
        return Promise.reject(
          new ForgeError("MODEL_CLOSED", "the model is shutting down and takes no new requests", {
            fix: "retry on another server or after restart",
          }),
        );
      }
      if (queue.length >= options.maxQueue) {
        request.release();
        return Promise.reject(
          new ForgeError("OVERLOADED", `${queue.length} requests are already waiting (the queue holds at most ${options.maxQueue})`, {
            fix: "retry after a short wait, or raise the queue bound",
            details: { maxQueue: options.maxQueue },
          }),
        );
      }
      return new Promise<InferResult>((resolve, reject) => {
        // The lease on the request's version ends with its answer, whichever it is.
        const settle =
          <T>(to: (value: T) => void) =>
          (value: T) => {
            request.release();
            to(value);
          };
        queue.push({ request, enqueuedAt: performance.now(), resolve: settle(resolve), reject: settle(reject) });
        schedule();
      });
    },
    get pending() {
      return queue.length;
    },
    get busy() {
      return executing !== undefined || queue.length > 0;
    },
    async close(): Promise<void> {
      closed = true;
      schedule();
      while (executing !== undefined || queue.length > 0) {
        await (executing ?? Promise.resolve());
        schedule();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}
