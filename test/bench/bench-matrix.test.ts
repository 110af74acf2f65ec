// npm run bench -- --matrix / --accounts-sweep, and the peak memory each report carries: the
// plan of runs, the flags' validation, the /proc status parser and the summary table.

import { describe, expect, it } from "vitest";
import { parseFlags } from "./parse-flags.js";
import { parsePeakRssMiB } from "../../tools/bench/cpu-usage.js";
import { LatencyRecorder } from "../../tools/bench/latency.js";
import { benchSweepPointsMax } from "../../tools/bench/limits.js";
import { formatMatrixTable, isMultiRun, plannedRuns } from "../../tools/bench/matrix.js";
import { buildReport } from "../../tools/bench/report.js";

function parse(args: string[]): ReturnType<typeof parseFlags> {
  return parseFlags(["--seed", "3", ...args]);
}

describe("bench --matrix and --accounts-sweep", () => {
  it("--matrix plans 1, 64 and 256 clients one transaction per request, then 8 clients of batches of 500", () => {
    const { options } = parse(["--matrix", "--accounts", "5000"]);
    expect(isMultiRun(options!)).toBe(true);
    const runs = plannedRuns(options!);
    expect(runs.map((r) => [r.clients, r.batchSize ?? null, r.accounts])).toEqual([
      [1, null, 5000],
      [64, null, 5000],
      [256, null, 5000],
      [8, 500, 5000],
    ]);
    for (const run of runs) {
      expect(isMultiRun(run)).toBe(false);
      expect(run.seed).toBe(3);
    }
  });

  it("--accounts-sweep plans one run of --clients clients per count, after the matrix when both are given", () => {
    const sweep = plannedRuns(parse(["--accounts-sweep", "10000, 100000", "--clients", "32"]).options!);
    expect(sweep.map((r) => [r.accounts, r.clients])).toEqual([
      [10_000, 32],
      [100_000, 32],
    ]);
    const both = plannedRuns(parse(["--matrix", "--accounts-sweep", "20"]).options!);
    expect(both).toHaveLength(5);
    expect(both[4]).toMatchObject({ accounts: 20, clients: 64 });
    expect(isMultiRun(parse([]).options!)).toBe(false);
  });

  it.each([
    [["--accounts-sweep", "10,zero"], '"zero"'],
    [["--accounts-sweep", "0"], "--accounts-sweep"],
    [["--accounts-sweep", Array.from({ length: benchSweepPointsMax + 1 }, () => "10").join(",")], "at most"],
    [["--matrix", "--batch-size", "10"], "--matrix"],
    [["--matrix", "--gateway", "127.0.0.1:8000"], "--matrix"],
    [["--accounts-sweep", "10", "--gateway", "127.0.0.1:8000"], "--accounts-sweep"],
  ])("refuses %j, naming the problem", (args, text) => {
    const { options, err } = parse(args);
    expect(options).toBeUndefined();
    expect(err).toContain(text);
  });
});

describe("bench memory and table", () => {
  it("reads the peak resident set (VmHWM) from /proc status text in MiB, and refuses text without it", () => {
    expect(parsePeakRssMiB("Name:\tnode\nVmPeak:\t  999 kB\nVmHWM:\t   204800 kB\nVmRSS:\t 1 kB\n")).toBe(200);
    expect(() => parsePeakRssMiB("Name:\tnode\n")).toThrow(/VmHWM/);
  });

  it("tabulates each run's mode, load, figures and the largest node RSS", () => {
    const report = (batch?: { size: number; requests: number }) =>
      buildReport({
        security: "tls",
        target: { kind: "own-cluster", shards: 16, replicationFactor: 3, nodeIds: ["node01", "node02"] },
        gateway: "127.0.0.1:1",
        seed: 1,
        accounts: 10_000,
        clients: batch === undefined ? 64 : 8,
        channels: 1,
        durationS: 10,
        windowSeconds: 10,
        transactions: 25_000,
        ...(batch === undefined ? {} : { batch }),
        latencyUs: new LatencyRecorder().summary(),
        errors: { total: 0, byCode: {} },
        insufficientFunds: 0,
        cpu: new Map([
          ["client", 1],
          ["gateway", 1],
          ["node01", 1],
          ["node02", 1],
        ]),
        peakRss: new Map([
          ["client", 90],
          ["gateway", 120],
          ["node01", 300.26],
          ["node02", 410.5],
        ]),
        balanceCheck: { accounts: 10, ok: batch === undefined, mismatchCount: 0, mismatches: [] },
      });
    const single = report();
    expect(single.peakRssMiB).toEqual({ client: 90, gateway: 120, node01: 300.3, node02: 410.5 });
    const table = formatMatrixTable([single, report({ size: 500, requests: 50 })]);
    const rows = table.split("\n").filter((line) => line.includes("10,000"));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/single .*10,000 .* 64 .* 2,500 .* 120 .* 411 .* ok/);
    expect(rows[1]).toMatch(/batched x500 .* 8 .* FAILED/);
  });
});
