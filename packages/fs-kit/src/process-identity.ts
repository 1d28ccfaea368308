import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";

/**
 * Who a process is, enough to tell later whether it is still alive: pid and host, with the boot id
 * and the process start time (clock ticks since boot, /proc/<pid>/stat) so that a reused pid is not
 * mistaken for it. The store records one as a version's writer.
 */
export type WriterIdentity = {
  pid: number;
  hostname: string;
  boot_id?: string | undefined;
  start_ticks?: number | undefined;
};

function readBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

interface ProcStat {
  state: string;
  startTicks: number;
}

function parseProcStat(text: string): ProcStat | undefined {
  // The command name (field 2) may hold spaces and parentheses; fields after the last ")" are fixed.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = Number(fields[19]);
  if (state === undefined || !Number.isInteger(startTicks)) return undefined;
  return { state, startTicks };
}

async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

let self: WriterIdentity | undefined;

export function currentProcessIdentity(): WriterIdentity {
  if (self !== undefined) return self;
  let startTicks: number | undefined;
  try {
    startTicks = parseProcStat(readFileSync(`/proc/${process.pid}/stat`, "utf8"))?.startTicks;
  } catch {
    startTicks = undefined;
  }
  const bootId = readBootId();
  self = {
    pid: process.pid,
    hostname: hostname(),
    ...(bootId === undefined ? {} : { boot_id: bootId }),
    ...(startTicks === undefined ? {} : { start_ticks: startTicks }),
  };
  return self;
}

/** "unknown" when the writer ran on another host: only its heartbeat age can tell then. */
export type Liveness = "alive" | "dead" | "unknown";

export async function writerLiveness(writer: WriterIdentity): Promise<Liveness> {
  const me = currentProcessIdentity();
  if (writer.hostname !== me.hostname) return "unknown";
  if (writer.boot_id !== undefined && me.boot_id !== undefined && writer.boot_id !== me.boot_id) return "dead";
  try {
    process.kill(writer.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return "dead";
    // EPERM: the pid exists but belongs to another user; fall through to the start-time check.
  }
  const stat = await readProcStat(writer.pid);
  // Without /proc (non-Linux, or not mounted) the kill(0) answer above is all there is.
  if (stat === undefined) return me.start_ticks === undefined ? "alive" : "dead";
  // A killed child stays a zombie until its parent reaps it; it will never write again.
  if (stat.state === "Z" || stat.state === "X") return "dead";
  if (writer.start_ticks !== undefined && writer.start_ticks !== stat.startTicks) return "dead";
  return "alive";
}

/**
 * The current process's identity packed into a file-name-safe tag (`w<pid>-<start ticks>-<host hash>`),
 * so that a folder named with it says who made it from the instant it exists: a writer killed right
 * after mkdir leaves a folder that is judged at once, not after an age limit. The host hash covers the
 * hostname and the boot id, so a tag from another host or an earlier boot is never matched to a local pid.
 */
export function writerTag(): string {
  const me = currentProcessIdentity();
  return `w${me.pid}-${me.start_ticks ?? "x"}-${hostHash(me)}`;
}

function hostHash(identity: WriterIdentity): string {
  return createHash("sha256")
    .update(`${identity.hostname}\0${identity.boot_id ?? ""}`)
    .digest("hex")
    .slice(0, 8);
}

const TAG_PATTERN = /w(\d+)-(\d+|x)-([0-9a-f]{8})/;

/**
 * Liveness of the writer whose tag is in `name`: undefined when the name holds no tag; "unknown" when
 * it was made on another host or boot (the hash differs), where only age can tell.
 */
export async function taggedWriterLiveness(name: string): Promise<Liveness | undefined> {
  const match = TAG_PATTERN.exec(name);
  if (match === null) return undefined;
  const me = currentProcessIdentity();
  if (match[3] !== hostHash(me)) return "unknown";
  return writerLiveness({
    pid: Number(match[1]),
    hostname: me.hostname,
    ...(me.boot_id === undefined ? {} : { boot_id: me.boot_id }),
    ...(match[2] === "x" ? {} : { start_ticks: Number(match[2]) }),
  });
}
