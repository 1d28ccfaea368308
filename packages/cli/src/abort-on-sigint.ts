/**
 * Turns Ctrl-C into an AbortSignal for the running stage, so that it stops its child processes
 * and removes its temporary files before the process exits. A second Ctrl-C exits at once.
 */
export async function withSigintAbort<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let presses = 0;
  const onSigint = () => {
    presses++;
    if (presses > 1) process.exit(130);
    process.stderr.write("\nstopping (Ctrl-C again to exit at once)...\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.off("SIGINT", onSigint);
  }
}
