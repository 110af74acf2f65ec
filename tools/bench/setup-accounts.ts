// Before the run (not timed): `count` new accounts, each with one settled topup so purchases
// can succeed from the first request; the topups go out as CreateTransactions of up to
// benchSetupTopupBatch items. Bounded concurrency; progress on stderr. Every create carries a
// request id, so a call that timed out or found the cluster busy (a loaded machine, a leader
// election) is retried without creating anything twice; an item its batch refused is retried
// on its own.

import type { LedgerClient } from "../../src/client/index.js";
import { runBounded } from "../dev/bounded.js";
import { startProgress } from "../dev/progress.js";
import type { DevIo } from "../dev/io.js";
import { randomBytes } from "node:crypto";
import { benchInitialTopupUnits, benchSetupConcurrency, benchSetupTopupBatch } from "./limits.js";
import { retried } from "./retried.js";

export async function createFundedAccounts(
  client: LedgerClient,
  count: number,
  stderr: DevIo["stderr"],
  signal?: AbortSignal,
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  const run = randomBytes(6).toString("hex");
  const progress = startProgress(count, "bench: creating accounts", stderr);
  try {
    await runBounded(count, benchSetupConcurrency, async (i) => {
      const account = await retried(() => client.createAccount({ requestId: `bench-${run}-account-${i}` }), signal);
      ids[i] = account.id;
      progress.increment();
    });
  } finally {
    progress.stop();
  }
  const topups = startProgress(count, "bench: topping up accounts", stderr);
  try {
    const topup = (i: number) => ({
      accountId: ids[i]!,
      amount: benchInitialTopupUnits,
      settled: true,
      description: "bench initial topup",
      requestId: `bench-${run}-topup-${i}`,
    });
    const batches = Math.ceil(count / benchSetupTopupBatch);
    await runBounded(batches, Math.max(1, Math.floor(benchSetupConcurrency / 8)), async (b) => {
      const first = b * benchSetupTopupBatch;
      const indexes = Array.from({ length: Math.min(benchSetupTopupBatch, count - first) }, (_, k) => first + k);
      const outcomes = await retried(() => client.createTransactions(indexes.map(topup)), signal);
      for (const [k, outcome] of outcomes.entries()) {
        if (outcome.error !== undefined) await retried(() => client.createTransaction(topup(indexes[k]!)), signal);
        topups.increment();
      }
    });
  } finally {
    topups.stop();
  }
  return ids;
}
