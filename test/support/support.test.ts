// The test helpers themselves: waiting on output, failure reports, stopping and cleanup.

import { describe, expect, it } from "vitest";
import { access } from "node:fs/promises";
import { createServer } from "node:net";
import { startTsProcess } from "./processes.js";
import { makeTempDir, removeAllTempDirs } from "./temp-dirs.js";
import { findFreePort } from "./free-port.js";
import { autoCleanup } from "./cleanup.js";

autoCleanup("each");

const child = "test/support/fixtures/stubborn-child.ts";

describe("test process helpers", () => {
  it("waitForJson resolves with the awaited log line and stop() ends the process with SIGTERM", async () => {
    const proc = startTsProcess(child);
    const ready = await proc.waitForJson((e) => e.msg === "ready");
    expect(ready.pid).toBe(proc.pid);
    expect(await proc.stop()).toEqual({ code: 0, signal: null });
  });

  it("waitForLine fails after its timeout with the child's stderr in the message", async () => {
    const proc = startTsProcess(child);
    await proc.waitForJson((e) => e.msg === "ready");
    await expect(proc.waitForLine((l) => l === "never printed", 200)).rejects.toThrow(
      /no matching output line within 200 ms[\s\S]*child diagnostics on stderr/,
    );
  });

  it("waitForLine fails as soon as the process exits, without waiting for the timeout", async () => {
    const proc = startTsProcess(child, ["--exit-now"]);
    await expect(proc.waitForLine(() => false, 60_000)).rejects.toThrow(/exited \(code 3\)[\s\S]*child diagnostics/);
  });

  it("stop() escalates to SIGKILL when SIGTERM is ignored", async () => {
    const proc = startTsProcess(child, ["--ignore-sigterm"]);
    await proc.waitForJson((e) => e.msg === "ready");
    expect(await proc.stop(300)).toEqual({ code: null, signal: "SIGKILL" });
    expect(proc.stdoutLines).toContain("ignoring SIGTERM");
  });
});

describe("temp dirs and ports", () => {
  it("removeAllTempDirs removes every directory made", async () => {
    const dirs = [await makeTempDir(), await makeTempDir()];
    await removeAllTempDirs();
    for (const d of dirs) await expect(access(d)).rejects.toThrow();
  });

  it("findFreePort returns a loopback port that can be bound", async () => {
    const port = await findFreePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", resolve));
    await new Promise((resolve) => server.close(resolve));
    expect(port).toBeGreaterThan(0);
  });
});
