import { fork, type ChildProcess } from "node:child_process";
import { ForgeError, type Logger } from "@trtforge/core";
import type { MetricObjectWithValues, MetricValue } from "prom-client";
import { errorReply, HEADER_LENGTH, type HttpCall, type HttpReply } from "../http/routes.js";
import { ProtocolError } from "../protocol/protocol-error.js";
import type { InferCall } from "../protocol/infer-request.js";
import type { FromWorker, ServedSummary, ShadowReply, ToWorker, WorkerConfig, WorkerRole } from "./messages.js";
import type { WorkerPlan } from "./plan.js";

const WORKER_MAIN = new URL("./worker-main.js", import.meta.url);
const SHADOW_WORKER_MAIN = new URL("./shadow-worker-main.js", import.meta.url);

export interface WorkerHandleOptions {
  /** Default primary. A shadow worker runs at nice 19, serves no client, and is not restarted. */
  role?: WorkerRole;
  /** A primary's shadow run: the supervisor hands it to its agent's shadow worker. */
  onShadowRun?: (agent: string, call: InferCall) => Promise<ShadowReply>;
  /** A shadow worker that was ready exited (how it ended); it stays down. */
  onGone?: (how: string) => void;
}

export interface RestartPolicy {
  /** First delay after an exit; doubles per exit in a row, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Ready this long: the next exit starts again from initialDelayMs. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, stableAfterMs: 30_000 };

/** Delay before the restart after `exitsInARow` earlier exits without a stable run between them. */
export function restartDelay(policy: RestartPolicy, exitsInARow: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exitsInARow);
}

type State = "starting" | "ready" | "exiting" | "waiting" | "draining" | "stopped";

interface PendingCall {
  resolve(reply: HttpReply): void;
}

/**
 * The supervisor's side of one worker process: forks it, forwards model calls, answers the calls
 * of a worker that dies with 503 at once, and restarts it with exponential backoff.
 */
export class WorkerHandle {
  private child: ChildProcess | undefined;
  private state: State = "starting";
  private readonly calls = new Map<number, PendingCall>();
  private readonly metricRequests = new Map<number, (values: MetricObjectWithValues<MetricValue<string>>[] | undefined) => void>();
  private nextId = 1;
  private exitsInARow = 0;
  private readyAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly shadowRuns = new Map<number, (reply: ShadowReply) => void>();
  /** stop() was called: shadow runs are shed from then on, not failures of the candidate. */
  private stopping = false;

  constructor(
    readonly plan: WorkerPlan,
    private readonly config: Omit<WorkerConfig, "name" | "models" | "gpu">,
    private readonly logger: Logger,
    private readonly policy: RestartPolicy,
    private readonly onRestart: (worker: string) => void,
    /**
     * The versions the worker serves: all of them when it is ready (at start and after each
     * restart), and the one that changed after each hot swap.
     */
    private readonly onServed: (served: readonly ServedSummary[]) => void = () => {},
    private readonly options: WorkerHandleOptions = {},
  ) {}

  get role(): WorkerRole {
    return this.options.role ?? "primary";
  }

  get name(): string {
    return this.plan.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  isReady(): boolean {
    return this.state === "ready";
  }

  holds(agent: string): boolean {
    return this.plan.models.some((model) => model.agent === agent);
  }

  /** Starts the worker; resolves once its models are loaded and warmed up, rejects if it fails first. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.spawn({ resolve, reject }));
  }

  private spawn(first?: { resolve(): void; reject(error: Error): void }): void {
    this.state = "starting";
    const env = { ...process.env };
    if (this.plan.gpu !== undefined) {
      // By UUID where NVML gave one; else by index, in nvidia-smi's (PCI bus) order, not CUDA's fastest-first.
      env.CUDA_VISIBLE_DEVICES = this.plan.gpuUuid ?? String(this.plan.gpu);
      env.CUDA_DEVICE_ORDER = "PCI_BUS_ID";
    }
    const child = fork(this.role === "shadow" ? SHADOW_WORKER_MAIN : WORKER_MAIN, [], {
      serialization: "advanced",
      env,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child = child;
    let failure: Error | undefined;
    child.on("message", (message: FromWorker) => {
      switch (message.type) {
        case "ready":
          this.state = "ready";
          this.readyAt = Date.now();
          this.logger.info({ worker: this.name, pid: child.pid, served: message.served }, "worker ready");
          this.onServed(message.served);
          first?.resolve();
          break;
        case "serving":
          this.logger.info({ worker: this.name, served: message.served }, "worker swapped version");
          this.onServed([message.served]);
          break;
        case "failed":
          failure = new ForgeError(
            "SERVER_WORKER_FAILED",
            `worker ${this.name} could not open its models: [${message.code}] ${message.message}`,
            {
              ...(message.fix === undefined ? {} : { fix: message.fix }),
            },
          );
          break;
        case "reply": {
          const pending = this.calls.get(message.id);
          this.calls.delete(message.id);
          const body = Buffer.from(message.reply.body.buffer, message.reply.body.byteOffset, message.reply.body.byteLength);
          pending?.resolve({ ...message.reply, body });
          break;
        }
        case "metrics":
          this.metricRequests.get(message.id)?.(message.metrics);
          this.metricRequests.delete(message.id);
          break;
        case "drained":
          break;
        case "shadow": {
          const run = this.options.onShadowRun?.(message.agent, message.call) ?? Promise.resolve<ShadowReply>({ outcome: "shed" });
          void run.then((reply) => {
            if (this.child === child && child.connected)
              child.send({ type: "shadow-result", id: message.id, reply } satisfies ToWorker, () => {});
          });
          break;
        }
        case "shadow-result":
          this.shadowRuns.get(message.id)?.(message.reply);
          this.shadowRuns.delete(message.id);
          break;
      }
    });
    // A send racing the worker's death reports here instead of throwing: never let it crash the supervisor.
    child.on("error", (err) => this.logger.warn({ worker: this.name, err: err.message }, "worker IPC error"));
    // The channel closes a moment before "exit" says how the process ended: stop sending to it now;
    // its calls are answered on "exit", or after a second if no exit comes (the worker is then killed).
    child.on("disconnect", () => {
      if (this.child !== child || this.state === "draining" || this.state === "stopped") return;
      if (this.state === "ready") this.state = "exiting";
      setTimeout(() => {
        if (this.child === child) {
          this.failCalls(`worker ${this.name} lost its IPC channel while serving the request; retry it`);
          child.kill("SIGKILL");
        }
      }, 1000).unref();
    });
    child.on("exit", (code, signal) => this.exited(child, code, signal, failure, first));
    child.send({
      type: "init",
      config: { ...this.config, name: this.name, models: this.plan.models, gpu: this.plan.gpu !== undefined },
    } satisfies ToWorker);
  }

  private exited(
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    failure: Error | undefined,
    first?: { resolve(): void; reject(error: Error): void },
  ): void {
    if (this.child !== child) return;
    this.child = undefined;
    const how = signal === null ? `exit code ${code}` : `signal ${signal}`;
    const wasDraining = this.state === "draining";
    const wasServing = this.state === "ready" || this.state === "exiting";
    this.failCalls(`worker ${this.name} exited (${how}) while serving the request; retry it`);
    for (const [id, answer] of this.shadowRuns) {
      this.shadowRuns.delete(id);
      answer(
        this.stopping
          ? { outcome: "shed" }
          : { outcome: "failed", reason: "worker_exited", message: `the shadow worker ${this.name} exited (${how})` },
      );
    }
    for (const [id, answer] of this.metricRequests) {
      this.metricRequests.delete(id);
      answer(undefined);
    }
    if (wasDraining || this.state === "stopped") {
      this.state = "stopped";
      return;
    }
    if (this.state === "starting" && first !== undefined) {
      this.state = "stopped";
      first.reject(
        failure ??
          new ForgeError("SERVER_WORKER_FAILED", `worker ${this.name} exited (${how}) before its models were ready`, {
            fix: "run with LOG_LEVEL=debug and read the worker's log above",
          }),
      );
      return;
    }
    if (this.role === "shadow") {
      // A shadow that dies is dropped, not restarted: whatever killed it would likely do it again,
      // and the primaries serve the same without it.
      this.state = "stopped";
      this.logger.error({ worker: this.name, how }, "shadow worker exited; its candidate is dropped, the primary keeps serving");
      if (wasServing) this.options.onGone?.(how);
      return;
    }
    if (this.readyAt > 0 && Date.now() - this.readyAt >= this.policy.stableAfterMs) this.exitsInARow = 0;
    const delay = restartDelay(this.policy, this.exitsInARow);
    this.exitsInARow += 1;
    this.state = "waiting";
    this.logger.error({ worker: this.name, how, restartInMs: delay, failure: failure?.message }, "worker exited; restarting");
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.onRestart(this.name);
      this.spawn();
    }, delay);
  }

  /** Answers every call in flight with 503: the worker will not answer them. */
  private failCalls(message: string): void {
    for (const [id, pending] of this.calls) {
      this.calls.delete(id);
      const error = new ProtocolError("worker_exited", message);
      pending.resolve(errorReply(error, { infer: { ok: false, reason: error.reason } }));
    }
  }

  /** Forwards one model call; a worker that is not ready answers 503 without being asked. */
  call(httpCall: HttpCall): Promise<HttpReply> {
    const child = this.child;
    if (this.state !== "ready" || child === undefined || !child.connected) {
      const error = new ProtocolError(
        "not_ready",
        `worker ${this.name} is not ready (${this.state === "ready" ? "exiting" : this.state}); retry shortly`,
      );
      return Promise.resolve(errorReply(error, { infer: { ok: false, reason: error.reason } }));
    }
    const id = this.nextId++;
    const headers: Record<string, string> = {};
    for (const name of [HEADER_LENGTH, "content-type"]) {
      const value = httpCall.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    return new Promise((resolve) => {
      this.calls.set(id, { resolve });
      const message: ToWorker = { type: "call", id, call: { method: httpCall.method, path: httpCall.path, headers, body: httpCall.body } };
      child.send(message, (err) => {
        if (err === null || !this.calls.has(id)) return;
        this.calls.delete(id);
        const error = new ProtocolError("worker_exited", `worker ${this.name} could not take the request (${err.message}); retry it`);
        resolve(errorReply(error, { infer: { ok: false, reason: error.reason } }));
      });
    });
  }

  /** The worker's registry as JSON, or undefined when it is not running or does not answer in time. */
  metrics(timeoutMs = 2000): Promise<MetricObjectWithValues<MetricValue<string>>[] | undefined> {
    const child = this.child;
    if (child === undefined || this.state !== "ready" || !child.connected) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.metricRequests.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.metricRequests.set(id, (values) => {
        clearTimeout(timer);
        resolve(values);
      });
      child.send({ type: "metrics", id } satisfies ToWorker, (err) => {
        if (err !== null) this.metricRequests.get(id)?.(undefined);
      });
    });
  }

  inFlight(): number {
    return this.calls.size;
  }

  /** A message to the worker if it is up (a primary's "shadow-dropped"); false when it could not go. */
  notify(message: ToWorker): boolean {
    const child = this.child;
    if (child === undefined || !child.connected) return false;
    child.send(message, () => {});
    return true;
  }

  /**
   * The shadow worker runs its candidate on a call a primary answered. Shed while it is still
   * starting; a worker that is gone answers a failure (the primary then drops its shadow).
   */
  runShadow(agent: string, call: InferCall): Promise<ShadowReply> {
    const child = this.child;
    if (this.state === "starting" || this.stopping) return Promise.resolve({ outcome: "shed" });
    if (this.state !== "ready" || child === undefined || !child.connected) {
      return Promise.resolve({ outcome: "failed", reason: "not_ready", message: `the shadow worker ${this.name} is ${this.state}` });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.shadowRuns.set(id, resolve);
      child.send({ type: "shadow-run", id, agent, call } satisfies ToWorker, (err) => {
        if (err === null || !this.shadowRuns.has(id)) return;
        this.shadowRuns.delete(id);
        resolve({
          outcome: "failed",
          reason: "worker_exited",
          message: `the shadow worker ${this.name} could not take the run: ${err.message}`,
        });
      });
    });
  }

  /** Asks the worker to finish its calls and dispose its models; SIGKILL after the deadline. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.state = "stopped";
      return;
    }
    this.state = "draining";
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (child.connected) child.send({ type: "drain" } satisfies ToWorker, () => {});
    else child.kill("SIGKILL");
    const timer = setTimeout(() => {
      this.logger.warn({ worker: this.name, deadlineMs }, "worker did not drain in time; killing it");
      child.kill("SIGKILL");
    }, deadlineMs);
    await exited;
    clearTimeout(timer);
  }
}
