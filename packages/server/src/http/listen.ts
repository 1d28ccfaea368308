import type { Server } from "node:http";
import { ForgeError } from "@trtforge/core";

/** Listens and returns the bound port (0 picks a free one); a taken port is a clear error. */
export function listen(server: Server, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new ForgeError("SERVER_LISTEN_FAILED", `cannot listen for ${what} on ${host}:${port}: ${err.code ?? err.message}`, {
          input: `${host}:${port}`,
          fix: err.code === "EADDRINUSE" ? "pick another port, or stop the process that holds it" : "check the host address",
          cause: err,
        }),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

export function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
