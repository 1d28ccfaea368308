/** The signals an operator or a service manager stops a command with; both mean the same here. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** The conventional exit status of a process killed by each (128 + signal number). */
const KILLED_STATUS: Record<(typeof STOP_SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Turns Ctrl-C or SIGTERM into an AbortSignal for the running stage, so that it stops its child
 * processes and removes its temporary files before the process exits with CANCELLED. A second
 * signal exits at once.
 */
export async function withSigintAbort<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received = 0;
  const onSignal = (name: (typeof STOP_SIGNALS)[number]) => {
    received++;
    if (received > 1) process.exit(KILLED_STATUS[name]);
    process.stderr.write(`\n${name}: stopping at the next safe point (send it again to exit at once)...\n`);
    controller.abort();
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  try {
    return await work(controller.signal);
  } finally {
    for (const name of STOP_SIGNALS) process.off(name, onSignal);
  }
}
