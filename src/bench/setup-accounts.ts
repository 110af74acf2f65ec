// Before the run (not timed): `count` new accounts, each with one settled topup so purchases
// can succeed from the first request. Bounded concurrency; progress on stderr.

import { LedgerError } from "../base/errors.js";
import type { LedgerClient } from "../client/index.js";
import { runBounded } from "../dev/bounded.js";
import { startProgress } from "../dev/progress.js";
import type { DevIo } from "../dev/io.js";
import { benchInitialTopupUnits, benchSetupConcurrency } from "../base/limits.js";

export async function createFundedAccounts(
  client: LedgerClient,
  count: number,
  stderr: DevIo["stderr"],
  signal?: AbortSignal,
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  const progress = startProgress(count, "bench: creating accounts", stderr);
  try {
    await runBounded(count, benchSetupConcurrency, async (i) => {
      if (signal?.aborted) throw new LedgerError("CANCELLED", "interrupted while creating accounts");
      const account = await client.createAccount();
      await client.createTransaction({
        accountId: account.id,
        amount: benchInitialTopupUnits,
        settled: true,
        description: "bench initial topup",
      });
      ids[i] = account.id;
      progress.increment();
    });
  } finally {
    progress.stop();
  }
  return ids;
}
