// The load: `clients` loops, each with one request in flight at a time (one CreateTransaction,
// or in batched mode one CreateTransactions of `batchSize` items), first for the
// warm-up (nothing recorded), then for the measured window. A call counts in the window when it
// completes inside it; calls still in flight at its end finish (so the cluster is quiet before
// the balance check) but are not counted. `onWindowStart`/`onWindowEnd` run exactly at the
// window's edges (CPU readings).

import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { isLedgerError } from "../../src/base/errors.js";
import type { CreateTransactionOutcome, LedgerClient } from "../../src/client/index.js";
import { TransactionStatus } from "../../src/client/index.js";
import { seededPrng } from "../../src/base/prng.js";
import { assert } from "../../src/base/assert.js";
import { LatencyRecorder } from "./latency.js";
import { drawBatch, drawRequest } from "./workload.js";

export interface RunPlan {
  /** One per concurrent client, or fewer shared round-robin (client i uses channels[i % n]). */
  channels: readonly LedgerClient[];
  clients: number;
  accountIds: readonly string[];
  warmupS: number;
  durationS: number;
  seed: number;
  /** Batched mode: items per CreateTransactions request; absent: one CreateTransaction each. */
  batchSize?: number;
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
  /** Ends the run early (Ctrl-C): clients stop after their current call. */
  signal?: AbortSignal;
}

export interface RunResult {
  /** Calls that returned a transaction inside the window (INSUFFICIENT_FUNDS ones included:
   * they are stored transactions too). */
  transactions: number;
  insufficientFunds: number;
  /** Failed transactions by code: a failed call counts once, and in batched mode each failed
   * item counts once (a whole request that failed: each of its items). */
  errors: { total: number; byCode: Record<string, number> };
  /** Requests completed inside the window, answered or failed (batched mode reports them). */
  requests: number;
  /** Latency of each answered request (a whole batch in batched mode). */
  latency: LatencyRecorder;
  /** The window's measured length, seconds (0 when the run was cut before it began). */
  windowSeconds: number;
  interrupted: boolean;
}

type Phase = "warmup" | "window" | "done";

export async function runLoad(plan: RunPlan): Promise<RunResult> {
  assert(plan.channels.length > 0 && plan.clients > 0, "a run needs clients and channels");
  const latency = new LatencyRecorder();
  const byCode: Record<string, number> = {};
  const result: RunResult = {
    transactions: 0,
    insufficientFunds: 0,
    errors: { total: 0, byCode },
    requests: 0,
    latency,
    windowSeconds: 0,
    interrupted: false,
  };
  const failed = (code: string, count: number): void => {
    byCode[code] = (byCode[code] ?? 0) + count;
    result.errors.total += count;
  };
  let phase: Phase = "warmup";
  let windowStart = 0;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  plan.signal?.addEventListener("abort", onAbort, { once: true });
  if (plan.signal?.aborted) stop.abort();

  const client = async (index: number): Promise<void> => {
    const prng = seededPrng((plan.seed + Math.imul(index, 0x9e3779b1)) >>> 0);
    const channel = plan.channels[index % plan.channels.length]!;
    const batchSize = plan.batchSize;
    while (phase !== "done" && !stop.signal.aborted) {
      const items =
        batchSize === undefined ? [drawRequest(prng, plan.accountIds)] : drawBatch(prng, plan.accountIds, batchSize);
      const started = performance.now();
      try {
        const outcomes: CreateTransactionOutcome[] =
          batchSize === undefined
            ? [{ transaction: await channel.createTransaction(items[0]!) }]
            : await channel.createTransactions(items);
        if (phase !== "window") continue;
        latency.record((performance.now() - started) * 1000);
        result.requests++;
        for (const o of outcomes) {
          if (o.error !== undefined) {
            failed(o.error.code, 1);
            continue;
          }
          result.transactions++;
          if (o.transaction.status === TransactionStatus.INSUFFICIENT_FUNDS) result.insufficientFunds++;
        }
      } catch (e) {
        if (phase !== "window") continue;
        result.requests++;
        failed(isLedgerError(e) ? e.code : "NOT_A_LEDGER_ERROR", items.length);
      }
    }
  };

  const timeline = async (): Promise<void> => {
    try {
      await sleep(plan.warmupS * 1000, undefined, { signal: stop.signal });
      plan.onWindowStart?.();
      windowStart = performance.now();
      phase = "window";
      await sleep(plan.durationS * 1000, undefined, { signal: stop.signal });
    } catch {
      result.interrupted = true;
    } finally {
      // Closing the window first, then the readings: calls completing meanwhile are not counted.
      const wasWindow = phase === "window";
      phase = "done";
      if (wasWindow) {
        result.windowSeconds = (performance.now() - windowStart) / 1000;
        plan.onWindowEnd?.();
      }
    }
  };

  try {
    await Promise.all([timeline(), ...Array.from({ length: plan.clients }, (_, i) => client(i))]);
  } finally {
    plan.signal?.removeEventListener("abort", onAbort);
  }
  return result;
}
