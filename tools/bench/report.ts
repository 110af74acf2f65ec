// The one JSON line the bench prints on stdout. Rounding: rates to 0.1/s, latencies to the
// microsecond (in ms, 3 decimals), CPU to the millisecond (the /proc readings tick every 10 ms),
// server CPU per transaction to 0.1 us. A figure that was not measured (server CPU against a
// running gateway) is null, never 0.

import type { BalanceCheck } from "./balance-check.js";
import type { LatencySummary } from "./latency.js";

export interface BenchReport {
  mode: "single" | "batched";
  /** "tls": TLS inside the cluster and on the API, API keys checked; "insecure": --insecure. */
  security: "tls" | "insecure";
  target: "own-cluster" | "gateway";
  gateway: string;
  seed: number;
  shards: number | null;
  replicationFactor: number | null;
  accounts: number;
  clients: number;
  channels: number;
  durationS: number;
  windowS: number;
  transactions: number;
  /** Transactions (items, in batched mode) per second. */
  opsPerSec: number;
  /** Batched mode only: items per request, requests completed in the window and their rate. */
  batchSize?: number;
  requests?: number;
  requestsPerSec?: number;
  /** Per request (a whole batch in batched mode). */
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  errors: { total: number; byCode: Record<string, number> };
  insufficientFunds: number;
  cpuSeconds: { client: number; gateway: number | null } & Record<string, number | null>;
  serverCpuUsPerTx: number | null;
  /** Peak resident memory (VmHWM) of each process by the window's end, in MiB; null where it
   * could not be read (the server processes of a running gateway). */
  peakRssMiB: { client: number; gateway: number | null } & Record<string, number | null>;
  balanceCheck: { accounts: number; ok: boolean; mismatchCount: number; mismatches: BalanceCheck["mismatches"] };
}

export interface ReportInput {
  security: "tls" | "insecure";
  target:
    | { kind: "own-cluster"; shards: number; replicationFactor: number; nodeIds: readonly string[] }
    | { kind: "gateway" };
  gateway: string;
  seed: number;
  accounts: number;
  clients: number;
  channels: number;
  durationS: number;
  windowSeconds: number;
  transactions: number;
  /** Batched mode: items per request and the requests completed in the window. */
  batch?: { size: number; requests: number };
  latencyUs: LatencySummary;
  errors: { total: number; byCode: Record<string, number> };
  insufficientFunds: number;
  /** CPU seconds of the window by process name: "client", and with an own cluster "gateway" and
   * each node id. */
  cpu: ReadonlyMap<string, number>;
  /** Peak resident MiB by process name, read at the window's end (same names as `cpu`). */
  peakRss?: ReadonlyMap<string, number>;
  balanceCheck: BalanceCheck;
}

const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};

export function buildReport(input: ReportInput): BenchReport {
  const own = input.target.kind === "own-cluster" ? input.target : undefined;
  const cpuOf = (name: string): number | null => {
    const s = input.cpu.get(name);
    return s === undefined ? null : round(s, 3);
  };
  const cpuSeconds: BenchReport["cpuSeconds"] = {
    client: cpuOf("client") ?? 0,
    gateway: own ? cpuOf("gateway") : null,
  };
  const serverNames = own ? ["gateway", ...own.nodeIds] : [];
  for (const id of own?.nodeIds ?? []) cpuSeconds[id] = cpuOf(id);
  const rssOf = (name: string): number | null => {
    const mib = input.peakRss?.get(name);
    return mib === undefined ? null : round(mib, 1);
  };
  const peakRssMiB: BenchReport["peakRssMiB"] = {
    client: rssOf("client") ?? 0,
    gateway: own ? rssOf("gateway") : null,
  };
  for (const id of own?.nodeIds ?? []) peakRssMiB[id] = rssOf(id);
  const serverSeconds = serverNames.reduce((sum, name) => sum + (input.cpu.get(name) ?? 0), 0);
  const us = (x: number): number => round(x / 1000, 3);
  const perSec = (n: number): number => (input.windowSeconds > 0 ? round(n / input.windowSeconds, 1) : 0);
  const batch = input.batch;
  return {
    mode: batch === undefined ? "single" : "batched",
    security: input.security,
    target: input.target.kind,
    gateway: input.gateway,
    seed: input.seed,
    shards: own?.shards ?? null,
    replicationFactor: own?.replicationFactor ?? null,
    accounts: input.accounts,
    clients: input.clients,
    channels: input.channels,
    durationS: input.durationS,
    windowS: round(input.windowSeconds, 3),
    transactions: input.transactions,
    opsPerSec: perSec(input.transactions),
    ...(batch === undefined
      ? {}
      : { batchSize: batch.size, requests: batch.requests, requestsPerSec: perSec(batch.requests) }),
    latencyMs: {
      p50: us(input.latencyUs.p50),
      p99: us(input.latencyUs.p99),
      p999: us(input.latencyUs.p999),
      max: us(input.latencyUs.max),
    },
    errors: { total: input.errors.total, byCode: { ...input.errors.byCode } },
    insufficientFunds: input.insufficientFunds,
    cpuSeconds,
    serverCpuUsPerTx: own && input.transactions > 0 ? round((serverSeconds * 1e6) / input.transactions, 1) : null,
    peakRssMiB,
    balanceCheck: {
      accounts: input.balanceCheck.accounts,
      ok: input.balanceCheck.ok,
      mismatchCount: input.balanceCheck.mismatchCount,
      mismatches: input.balanceCheck.mismatches,
    },
  };
}

/** The report as one line of JSON (every field is a string, number, boolean or null). */
export function formatReport(report: BenchReport): string {
  return JSON.stringify(report);
}
