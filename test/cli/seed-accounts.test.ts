// seed-accounts run in-process against a scripted server: ids on stdout, the bound on calls in
// flight, and the progress display (a bar on a terminal, plain text otherwise).

import { PassThrough } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runDev } from "../../tools/dev/program.js";
import { LedgerError } from "../../src/base/errors.js";
import type { DevIo } from "../../tools/dev/io.js";
import { AccountSchema } from "../../src/gen/ledger/v1/ledger_pb.js";
import { ScriptedServer } from "../client/scripted-server.js";

function captureIo(stderrIsTTY: boolean) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: stderrIsTTY });
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (c: Buffer) => out.push(c.toString()));
  stderr.on("data", (c: Buffer) => err.push(c.toString()));
  const io: DevIo = { stdout, stderr };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("seed-accounts (in-process)", () => {
  let server: ScriptedServer;
  let inFlight = 0;
  let peakInFlight = 0;

  beforeAll(async () => {
    server = await ScriptedServer.start();
  });
  beforeEach(() => {
    server.reset();
    inFlight = 0;
    peakInFlight = 0;
    let next = 0;
    server.handlers.createAccount = async () => {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      await new Promise(setImmediate); // yield so concurrent calls can overlap
      inFlight--;
      const id = (++next).toString(16).padStart(16, "0");
      return { $typeName: "ledger.v1.CreateAccountResponse", account: create(AccountSchema, { id }) };
    };
  });
  afterAll(() => server.stop());

  it("prints every created id once, keeps at most --concurrency calls in flight, and draws a bar on a terminal", async () => {
    const cap = captureIo(true);
    const code = await runDev(
      [
        "node",
        "dev",
        "seed-accounts",
        "--count",
        "150",
        "--concurrency",
        "3",
        "--gateway",
        server.address,
        "--insecure",
      ],
      cap.io,
    );
    expect(code).toBe(0);
    const ids = cap.stdout().trimEnd().split("\n");
    expect(ids.sort()).toEqual(Array.from({ length: 150 }, (_, i) => (i + 1).toString(16).padStart(16, "0")));
    expect(server.requests).toHaveLength(150);
    expect(peakInFlight).toBeLessThanOrEqual(3);
    expect(cap.stderr()).toContain("seed-accounts [");
    expect(cap.stderr()).toContain("150/150");
    expect(cap.stderr()).toMatch(/seed-accounts: created 150 accounts at 127\.0\.0\.1:\d+ in \d+\.\d s\n$/);
  });

  it("writes no bar when stderr is not a terminal, only plain lines", async () => {
    const cap = captureIo(false);
    const code = await runDev(
      ["node", "dev", "seed-accounts", "--count", "150", "--gateway", server.address, "--insecure"],
      cap.io,
    );
    expect(code).toBe(0);
    expect(cap.stdout().trimEnd().split("\n")).toHaveLength(150);
    expect(cap.stderr()).not.toContain("[");
    expect(cap.stderr()).not.toContain("\u001b"); // no terminal escape sequences
    expect(cap.stderr()).toMatch(/seed-accounts: created 150 accounts at /);
  });

  it("stops at the first API error: exit 1, one line with the code, ids already created stay printed", async () => {
    let calls = 0;
    server.handlers.createAccount = async () => {
      if (++calls > 2) throw new LedgerError("RESOURCE_EXHAUSTED", "queue full");
      return {
        $typeName: "ledger.v1.CreateAccountResponse",
        account: create(AccountSchema, { id: calls.toString(16).padStart(16, "0") }),
      };
    };
    const cap = captureIo(false);
    const code = await runDev(
      [
        "node",
        "dev",
        "seed-accounts",
        "--count",
        "50",
        "--concurrency",
        "1",
        "--gateway",
        server.address,
        "--insecure",
      ],
      cap.io,
    );
    expect(code).toBe(1);
    expect(cap.stdout()).toBe("0000000000000001\n0000000000000002\n");
    expect(cap.stderr()).toBe("error: RESOURCE_EXHAUSTED: queue full\n");
    expect(server.requests).toHaveLength(3);
  });
});
