// The benchmark's pure parts: the request draw, the balance fold and comparison, the /proc
// parser, the report's arithmetic, and flag validation.

import { describe, expect, it } from "vitest";
import { compareAccount } from "../../tools/bench/balance-check.js";
import { foldBalances } from "../../src/ledger/balance-fold.js";
import { parseProcStatTicks, cpuDelta } from "../../tools/bench/cpu-usage.js";
import { LatencyRecorder } from "../../tools/bench/latency.js";
import { buildReport, formatReport } from "../../tools/bench/report.js";
import { drawAmount, drawBatch, drawRequest } from "../../tools/bench/workload.js";
import { createTransactionsItemsMax } from "../../src/ledger/limits.js";
import { seededPrng } from "../../src/base/prng.js";
import { TransactionStatus } from "../../src/client/index.js";
import { parseFlags } from "./parse-flags.js";

describe("bench workload", () => {
  it("draws every non-zero amount in [-50, +100] and never zero", () => {
    const prng = seededPrng(7);
    const seen = new Set<bigint>();
    for (let i = 0; i < 20_000; i++) seen.add(drawAmount(prng));
    expect(seen.has(0n)).toBe(false);
    expect(seen.size).toBe(150);
    expect([...seen].every((a) => a >= -50n && a <= 100n)).toBe(true);
  });

  it("replays the same requests from the same seed and mixes settled and pending", () => {
    const ids = ["a", "b", "c"];
    const one = Array.from(
      { length: 50 },
      (
        (p) => () =>
          drawRequest(p, ids)
      )(seededPrng(3)),
    );
    const two = Array.from(
      { length: 50 },
      (
        (p) => () =>
          drawRequest(p, ids)
      )(seededPrng(3)),
    );
    expect(one).toEqual(two);
    expect(new Set(one.map((r) => r.settled)).size).toBe(2);
    expect(one.every((r) => ids.includes(r.accountId))).toBe(true);
  });
});

describe("bench batched workload", () => {
  it("draws a batch of the asked size as the same sequence of independent draws the single mode makes", () => {
    const ids = ["a", "b", "c"];
    const batch = drawBatch(seededPrng(9), ids, 40);
    const p = seededPrng(9);
    expect(batch).toHaveLength(40);
    expect(batch).toEqual(Array.from({ length: 40 }, () => drawRequest(p, ids)));
  });
});

describe("bench balance check", () => {
  const t = (amount: bigint, status: TransactionStatus) => ({ amount, status });

  it("folds settled into both balances, a pending purchase into available only, and ignores the rest", () => {
    const folded = foldBalances([
      t(1000n, TransactionStatus.SETTLED),
      t(-30n, TransactionStatus.PENDING),
      t(50n, TransactionStatus.PENDING),
      t(-20n, TransactionStatus.CANCELLED),
      t(-5000n, TransactionStatus.INSUFFICIENT_FUNDS),
      t(-100n, TransactionStatus.SETTLED),
    ]);
    expect(folded).toEqual({ available: 870n, settled: 900n });
  });

  it("reports an account whose stored balances differ from the fold, and passes one that matches", () => {
    const txs = [t(10n, TransactionStatus.SETTLED), t(-4n, TransactionStatus.PENDING)];
    expect(compareAccount("x", { available: 6n, settled: 10n }, txs)).toBeUndefined();
    expect(compareAccount("x", { available: 10n, settled: 10n }, txs)).toEqual({
      accountId: "x",
      available: "10",
      settled: "10",
      expectedAvailable: "6",
      expectedSettled: "10",
      transactions: 2,
    });
  });
});

describe("bench CPU readings", () => {
  it("reads utime + stime from /proc/<pid>/stat even when the command name holds spaces and parentheses", () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[14 - 3] = "120";
    fields[15 - 3] = "35";
    expect(parseProcStatTicks(`4242 (node (a) b) ${fields.join(" ")}`)).toBe(155);
  });

  it("rejects a line that is not /proc stat", () => {
    expect(() => parseProcStatTicks("garbage")).toThrow(/command name/);
    expect(() => parseProcStatTicks("1 (x) S 1 2")).toThrow(/field 14/);
  });

  it("subtracts readings per process", () => {
    const d = cpuDelta(
      new Map([["a", 1.5]]),
      new Map([
        ["a", 4],
        ["b", 2],
      ]),
    );
    expect(d).toEqual(
      new Map([
        ["a", 2.5],
        ["b", 2],
      ]),
    );
  });
});

describe("bench report", () => {
  it("derives ops/s and server CPU microseconds per transaction from gateway and node CPU only", () => {
    const latency = new LatencyRecorder();
    for (let us = 1; us <= 1000; us++) latency.record(us * 10);
    const report = buildReport({
      security: "tls",
      target: { kind: "own-cluster", shards: 16, replicationFactor: 3, nodeIds: ["node01", "node02"] },
      gateway: "127.0.0.1:1",
      seed: 1,
      accounts: 10,
      clients: 4,
      channels: 1,
      durationS: 2,
      windowSeconds: 2,
      transactions: 10_000,
      latencyUs: latency.summary(),
      errors: { total: 0, byCode: {} },
      insufficientFunds: 3,
      cpu: new Map([
        ["client", 9],
        ["gateway", 1],
        ["node01", 0.5],
        ["node02", 0.5],
      ]),
      balanceCheck: { accounts: 10, ok: true, mismatchCount: 0, mismatches: [] },
    });
    expect(report.opsPerSec).toBe(5000);
    expect(report.serverCpuUsPerTx).toBe(200); // (1 + 0.5 + 0.5) s / 10,000 tx, the client excluded
    expect(report.latencyMs.p50).toBeCloseTo(5, 1);
    expect(report.latencyMs.p99).toBeCloseTo(9.9, 1);
    expect(JSON.parse(formatReport(report))).toEqual(report);
  });

  const batchedInput = (batch?: { size: number; requests: number }) => ({
    security: "insecure" as const,
    target: { kind: "own-cluster" as const, shards: 16, replicationFactor: 3, nodeIds: ["node01"] },
    gateway: "127.0.0.1:1",
    seed: 1,
    accounts: 10,
    clients: 2,
    channels: 1,
    durationS: 4,
    windowSeconds: 4,
    transactions: 40_000,
    ...(batch === undefined ? {} : { batch }),
    latencyUs: new LatencyRecorder().summary(),
    errors: { total: 3, byCode: { UNAVAILABLE: 3 } },
    insufficientFunds: 7,
    cpu: new Map([
      ["client", 1],
      ["gateway", 1],
      ["node01", 3],
    ]),
    balanceCheck: { accounts: 10, ok: true, mismatchCount: 0, mismatches: [] },
  });

  it("in batched mode says so, counts transactions (items) per second as ops/s and reports the batch size, requests and requests/s", () => {
    const report = buildReport(batchedInput({ size: 500, requests: 80 }));
    expect(report).toMatchObject({
      mode: "batched",
      transactions: 40_000,
      opsPerSec: 10_000,
      batchSize: 500,
      requests: 80,
      requestsPerSec: 20,
      insufficientFunds: 7,
    });
    expect(report.errors).toEqual({ total: 3, byCode: { UNAVAILABLE: 3 } });
    expect(report.serverCpuUsPerTx).toBe(100); // (1 + 3) s / 40,000 items
    expect(JSON.parse(formatReport(report))).toEqual(report);
  });

  it("in single mode keeps its fields as they were: no batch fields", () => {
    const report = buildReport(batchedInput());
    expect(report.mode).toBe("single");
    expect(Object.keys(report)).not.toContain("batchSize");
    expect(Object.keys(report)).not.toContain("requests");
    expect(Object.keys(report)).not.toContain("requestsPerSec");
  });

  it("gives null, not 0, for server CPU it could not measure (a running gateway)", () => {
    const report = buildReport({
      security: "tls",
      target: { kind: "gateway" },
      gateway: "127.0.0.1:1",
      seed: 1,
      accounts: 1,
      clients: 1,
      channels: 1,
      durationS: 1,
      windowSeconds: 1,
      transactions: 5,
      latencyUs: new LatencyRecorder().summary(),
      errors: { total: 0, byCode: {} },
      insufficientFunds: 0,
      cpu: new Map([["client", 0.2]]),
      balanceCheck: { accounts: 1, ok: true, mismatchCount: 0, mismatches: [] },
    });
    expect(report.serverCpuUsPerTx).toBeNull();
    expect(report.cpuSeconds.gateway).toBeNull();
  });
});

describe("bench flags", () => {
  const parse = parseFlags;

  it("takes the issue's defaults, secure unless told --insecure", () => {
    const { options } = parse(["--seed", "5"]);
    expect(options).toMatchObject({
      accounts: 10_000,
      clients: 64,
      durationS: 10,
      seed: 5,
      shards: 16,
      replicationFactor: 3,
      insecure: false,
      secretsDir: "./data/secrets",
    });
    expect(parse(["--insecure"]).options?.insecure).toBe(true);
  });

  it("takes --batch-size for the batched mode, and leaves it unset (single mode) by default", () => {
    expect(parse(["--batch-size", "250"]).options?.batchSize).toBe(250);
    expect(parse([]).options?.batchSize).toBeUndefined();
  });

  it.each([
    [["--batch-size", "0"], "--batch-size"],
    [["--batch-size", String(createTransactionsItemsMax + 1)], "--batch-size"],
    [["--clients", "0"], "--clients"],
    [["--accounts", "ten"], "--accounts"],
    [["--duration-s", "-1"], "--duration-s"],
    [["--gateway", "nowhere"], "--gateway"],
    [["--gateway", "127.0.0.1:8000", "--shards", "4"], "--shards"],
  ])("refuses %j naming the flag", (args, flag) => {
    const { options, err } = parse(args);
    expect(options).toBeUndefined();
    expect(err).toContain(flag);
  });
});

describe("bench latency recorder", () => {
  it("keeps p50 <= p99 <= p99.9 <= max even when the top bucket's upper edge is above the maximum", () => {
    const latency = new LatencyRecorder();
    for (let i = 0; i < 1000; i++) latency.record(52_591);
    latency.record(10);
    const s = latency.summary();
    expect(s.max).toBe(52_591);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(s.p999).toBeLessThanOrEqual(s.max);
    expect(s.p50).toBeLessThanOrEqual(s.p99);
  });
});
