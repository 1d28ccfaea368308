import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseExporterLine, protocolLineParser, protocolMessageSchema } from "../src/index.js";

describe("the Python children's JSON-lines protocol (one schema and parser for all of them)", () => {
  const parse = protocolLineParser(protocolMessageSchema(z.object({ plan_bytes: z.number() })));

  it("reads each message type, with the tool's own report in the result", () => {
    expect(parse('{"type":"progress","stage":"build","current":1,"total":3}')).toEqual({
      ok: true,
      message: { type: "progress", stage: "build", current: 1, total: 3 },
    });
    expect(parse('{"type":"result","report":{"plan_bytes":7}}')).toEqual({
      ok: true,
      message: { type: "result", report: { plan_bytes: 7 } },
    });
    expect(parse('{"type":"error","code":"ANY_CODE","message":"m"}')).toMatchObject({ ok: true });
  });

  it("says why a line is refused and keeps its head", () => {
    expect(parse("Traceback (most recent call last):")).toEqual({ ok: false, reason: "not JSON: Traceback (most recent call last):" });
    const wrongReport = parse('{"type":"result","report":{"plan_bytes":"7"}}');
    expect(wrongReport.ok).toBe(false);
    if (!wrongReport.ok)
      expect(wrongReport.reason).toMatch(/^not a protocol message: [\s\S]*plan_bytes[\s\S]*"report":\{"plan_bytes":"7"\}/);
  });

  it("narrows error codes where the tool documents them (the exporter)", () => {
    expect(parseExporterLine('{"type":"error","code":"NOT_A_MODEL","message":"m"}').ok).toBe(true);
    expect(parseExporterLine('{"type":"error","code":"ANY_CODE","message":"m"}').ok).toBe(false);
  });
});
