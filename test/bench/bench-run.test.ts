// `npm run bench` end to end, briefly: it starts its own cluster (3 nodes + gateway), loads it
// for two seconds, prints one well-formed JSON line, checks every account's balances, and stops
// exactly the processes it started. Not a timing test: no figure is compared with a target.

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { autoCleanup } from "../support/cleanup.js";
import { startTsProcess } from "../support/processes.js";

autoCleanup();

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm run bench", () => {
  it("runs a short load on its own cluster, prints one JSON report whose balance check passed, and leaves no process or temp dir behind", async () => {
    const bench = startTsProcess("cmd/bench.ts", [
      "--accounts",
      "200",
      "--clients",
      "8",
      "--warmup-s",
      "1",
      "--duration-s",
      "2",
      "--shards",
      "4",
      "--seed",
      "11",
    ]);
    const exit = await bench.exited;
    expect(exit, bench.stderr).toEqual({ code: 0, signal: null });

    expect(bench.stdoutLines).toHaveLength(1);
    const report = JSON.parse(bench.stdoutLines[0]!);
    expect(report).toMatchObject({
      mode: "single",
      security: "tls",
      target: "own-cluster",
      accounts: 200,
      clients: 8,
      shards: 4,
      replicationFactor: 3,
      seed: 11,
    });
    expect(report.transactions).toBeGreaterThan(0);
    expect(report.opsPerSec).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.latencyMs.p99).toBeLessThanOrEqual(report.latencyMs.p999);
    expect(report.latencyMs.p999).toBeLessThanOrEqual(report.latencyMs.max);
    expect(report.errors.total).toBe(0);
    expect(report.insufficientFunds).toBeGreaterThanOrEqual(0);
    for (const name of ["client", "gateway", "node01", "node02", "node03"])
      expect(report.cpuSeconds[name], name).toBeGreaterThan(0);
    expect(report.serverCpuUsPerTx).toBeGreaterThan(0);
    expect(report.balanceCheck).toEqual({ accounts: 200, ok: true, mismatchCount: 0, mismatches: [] });

    // The cluster it started is gone: the pids and the temp dir it named on stderr.
    const started = /started (.*); temp dir (\S+)/.exec(bench.stderr);
    expect(started, bench.stderr).not.toBeNull();
    const pids = [...started![1]!.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(4);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(existsSync(started![2]!)).toBe(false);
  });

  it("in batched mode (--batch-size) and with --insecure runs a short load of CreateTransactions, reporting items and requests, and its balance check passes", async () => {
    const bench = startTsProcess("cmd/bench.ts", [
      "--accounts",
      "200",
      "--clients",
      "2",
      "--batch-size",
      "50",
      "--warmup-s",
      "1",
      "--duration-s",
      "2",
      "--shards",
      "4",
      "--seed",
      "12",
      "--insecure",
    ]);
    const exit = await bench.exited;
    expect(exit, bench.stderr).toEqual({ code: 0, signal: null });

    expect(bench.stdoutLines).toHaveLength(1);
    const report = JSON.parse(bench.stdoutLines[0]!);
    expect(report).toMatchObject({
      mode: "batched",
      security: "insecure",
      batchSize: 50,
      target: "own-cluster",
      accounts: 200,
      clients: 2,
      shards: 4,
      seed: 12,
    });
    expect(report.requests).toBeGreaterThan(0);
    // Every answered request holds batchSize items, each a transaction or an item error.
    expect(report.transactions + report.errors.total).toBe(report.requests * 50);
    expect(report.errors.total).toBe(0);
    expect(report.opsPerSec).toBeGreaterThan(report.requestsPerSec);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeLessThanOrEqual(report.latencyMs.p99);
    expect(report.insufficientFunds).toBeGreaterThanOrEqual(0);
    expect(report.serverCpuUsPerTx).toBeGreaterThan(0);
    expect(report.balanceCheck).toEqual({ accounts: 200, ok: true, mismatchCount: 0, mismatches: [] });
    const started = /started (.*); temp dir (\S+)/.exec(bench.stderr);
    expect(started, bench.stderr).not.toBeNull();
    for (const m of started![1]!.matchAll(/pid (\d+)/g)) expect(isAlive(Number(m[1])), `pid ${m[1]}`).toBe(false);
    expect(existsSync(started![2]!)).toBe(false);
  });

  it("--accounts-sweep runs once per account count, each on a fresh cluster it stops: one JSON line per run with peak memory, then a table", async () => {
    const bench = startTsProcess("cmd/bench.ts", [
      "--accounts-sweep",
      "30,60",
      "--clients",
      "2",
      "--warmup-s",
      "0",
      "--duration-s",
      "1",
      "--shards",
      "2",
      "--seed",
      "13",
      "--insecure",
    ]);
    const exit = await bench.exited;
    expect(exit, bench.stderr).toEqual({ code: 0, signal: null });
    const reports = bench.stdoutLines.map((line) => JSON.parse(line));
    expect(reports.map((r) => [r.accounts, r.clients, r.balanceCheck.ok])).toEqual([
      [30, 2, true],
      [60, 2, true],
    ]);
    for (const r of reports)
      for (const name of ["client", "gateway", "node01", "node02", "node03"])
        expect(r.peakRssMiB[name], name).toBeGreaterThan(0);
    expect(bench.stderr).toMatch(/single .*\b30 .*ok/);
    expect(bench.stderr).toMatch(/single .*\b60 .*ok/);
    const started = [...bench.stderr.matchAll(/started (.*); INSECURE.*; temp dir (\S+)/g)];
    expect(started, bench.stderr).toHaveLength(2);
    for (const run of started) {
      for (const m of run[1]!.matchAll(/pid (\d+)/g)) expect(isAlive(Number(m[1])), `pid ${m[1]}`).toBe(false);
      expect(existsSync(run[2]!)).toBe(false);
    }
  });

  it("refuses a bad flag with exit 2 and a message naming it, starting nothing", async () => {
    const bench = startTsProcess("cmd/bench.ts", ["--clients", "zero"]);
    const exit = await bench.exited;
    expect(exit.code).toBe(2);
    expect(bench.stderr).toContain("--clients");
    expect(bench.stderr).not.toContain("started");
  });
});
