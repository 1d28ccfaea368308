import { createServer, type Server } from "node:http";
import type { Logger } from "@trtforge/core";

/** `/metrics` on its own port (Triton's layout: 8000 inference, 8002 metrics). */
export function createMetricsServer(scrape: () => Promise<{ contentType: string; text: string }>, logger: Logger): Server {
  return createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" || path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    scrape().then(
      ({ contentType, text }) => response.writeHead(200, { "content-type": contentType }).end(text),
      (err: unknown) => {
        logger.error({ err }, "metrics scrape failed");
        response.writeHead(500, { "content-type": "text/plain" }).end(`scrape failed: ${(err as Error).message}\n`);
      },
    );
  });
}
