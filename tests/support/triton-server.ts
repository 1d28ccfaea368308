/**
 * A real Triton Inference Server for the Triton tests: tritonserver 2.51.0 from the nvidia-pytriton
 * wheel that scripts/setup-triton.sh installs into .tools/triton, on free loopback ports, in
 * explicit model-control mode.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/** Installs (or finds) the Triton environment; returns its folder. */
export function setupTriton(): string {
  const run = spawnSync("bash", [join(ROOT, "scripts/setup-triton.sh")], { encoding: "utf8", timeout: 600_000 });
  if (run.status !== 0) throw new Error(`scripts/setup-triton.sh exited ${run.status}:\n${run.stderr}`);
  return run.stdout.trim();
}

/** Distinct free loopback ports: every listener stays open until all are taken, so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

export interface TritonProcess {
  url: string;
  child: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

export async function startTriton(tritonDir: string, repositories: string[]): Promise<TritonProcess> {
  const site = join(tritonDir, "venv/lib/python3.11/site-packages");
  const binary = join(site, "pytriton/tritonserver/bin/tritonserver");
  if (!existsSync(binary)) throw new Error(`no tritonserver at ${binary}: run scripts/setup-triton.sh`);
  const [http, grpc, metrics] = (await freePorts(3)) as [number, number, number];
  // Each server's Python-backend shared memory gets its own name, so parallel runs never share it.
  const shmPrefix = `trtforge-test-${process.pid}-${http}`;
  const args = [
    ...repositories.map((r) => `--model-repository=${r}`),
    `--backend-directory=${join(tritonDir, "backends")}`,
    "--model-control-mode=explicit",
    "--http-address=127.0.0.1",
    `--http-port=${http}`,
    "--grpc-address=127.0.0.1",
    `--grpc-port=${grpc}`,
    `--metrics-port=${metrics}`,
    "--exit-timeout-secs=5",
    `--backend-config=python,shm-region-prefix-name=${shmPrefix}`,
  ];
  const child = spawn(binary, args, {
    env: {
      ...process.env,
      // The Python backend's stub embeds libpython3.11 and, like python3, takes the venv found first on PATH.
      PATH: `${join(tritonDir, "venv/bin")}:${process.env.PATH ?? ""}`,
      LD_LIBRARY_PATH: join(site, "nvidia_pytriton.libs"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (c: Buffer) => (log += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(
        `tritonserver exited ${child.exitCode} while starting:\n${log.length > 6000 ? `${log.slice(0, 2000)}\n…\n${log.slice(-4000)}` : log}`,
      );
    try {
      if ((await fetch(`${url}/v2/health/live`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`tritonserver did not start within 120 s:\n${log.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
      for (const entry of await readdir("/dev/shm").catch(() => [] as string[]))
        if (entry.includes(shmPrefix)) await rm(join("/dev/shm", entry), { force: true });
    },
  };
}

/** POST /v2/repository/models/<name>/load: the status and Triton's error text, if any. */
export async function loadModel(url: string, name: string): Promise<{ status: number; error: string | undefined }> {
  const response = await fetch(`${url}/v2/repository/models/${encodeURIComponent(name)}/load`, { method: "POST" });
  const text = await response.text();
  const error = text === "" ? undefined : ((JSON.parse(text) as { error?: string }).error ?? undefined);
  return { status: response.status, error };
}
