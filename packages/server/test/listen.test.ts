import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { endpointSet, startInProcessServer } from "../src/index.js";

describe("listening", () => {
  it("a port that is taken fails with SERVER_LISTEN_FAILED naming the address and the fix", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const address = holder.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    try {
      await expect(startInProcessServer({ endpoints: endpointSet([]), httpPort: port })).rejects.toMatchObject({
        code: "SERVER_LISTEN_FAILED",
        input: `127.0.0.1:${port}`,
        fix: expect.stringMatching(/another port/),
      });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
