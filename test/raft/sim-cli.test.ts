// The simulator's command line: a seed replays to the same output, bad flags print the usage
// and exit with code 2.

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");

function sim(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  // spawnSync waits for the child and kills it if it overruns, so nothing is left behind.
  const r = spawnSync(process.execPath, ["--import", "tsx", "test/sim/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 50_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("sim CLI", () => {
  it("replays a seed: the same flags print the same summary and trace hash", () => {
    const a = sim("--seed", "7", "--steps", "300");
    const b = sim("--seed", "7", "--steps", "300");
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^seed 7: ok, [35] replicas, .* trace [0-9a-f]{8}\n$/);
    expect(b.stdout).toBe(a.stdout);
  });

  it("runs a range of seeds and reports runs per minute", () => {
    const r = sim("--seed", "10", "--runs", "5", "--steps", "200", "--replicas", "5");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^5 runs passed in [\d.]+ s: \d+ runs per minute .*seeds 10\.\.14\)\n$/);
  });

  it.each([
    [["--replicas", "4"]],
    [["--seed", "abc"]],
    [["--seed", "-1"]],
    [["--runs", "0"]],
    [["--steps", "1.5"]],
    [["--bogus"]],
    [["extra"]],
  ])("rejects %j with the usage and exit code 2", (args) => {
    const r = sim(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: sim [options]");
    expect(r.stdout).toBe("");
  });
});
