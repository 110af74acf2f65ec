// Before the run (not timed): `count` new accounts, each with one settled topup so purchases
// can succeed from the first request. Bounded concurrency; progress on stderr. Every create
// carries a request id, so a call that timed out or found the cluster busy (a loaded machine,
// a leader election) is retried without creating anything twice.

import type { LedgerClient } from "../../src/client/index.js";
import { runBounded } from "../dev/bounded.js";
import { startProgress } from "../dev/progress.js";
import type { DevIo } from "../dev/io.js";
import { randomBytes } from "node:crypto";
import { benchInitialTopupUnits, benchSetupConcurrency } from "./limits.js";
import { retried } from "./retried.js";

export async function createFundedAccounts(
  client: LedgerClient,
  count: number,
  stderr: DevIo["stderr"],
  signal?: AbortSignal,
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  const progress = startProgress(count, "bench: creating accounts", stderr);
  try {
    const run = randomBytes(6).toString("hex");
    await runBounded(count, benchSetupConcurrency, async (i) => {
      const account = await retried(() => client.createAccount({ requestId: `bench-${run}-account-${i}` }), signal);
      await retried(
        () =>
          client.createTransaction({
            accountId: account.id,
            amount: benchInitialTopupUnits,
            settled: true,
            description: "bench initial topup",
            requestId: `bench-${run}-topup-${i}`,
          }),
        signal,
      );
      ids[i] = account.id;
      progress.increment();
    });
  } finally {
    progress.stop();
  }
  return ids;
}
