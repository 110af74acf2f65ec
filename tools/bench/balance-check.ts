// After the run: every account's balances must equal the fold of its stored transactions
// (the ledger's conservation invariant, README "Invariants"). Read through the gateway.
//
// The fold is src/ledger/balance-fold.ts.

import type { LedgerClient, Transaction } from "../../src/client/index.js";
import { foldBalances } from "../../src/ledger/balance-fold.js";
import type { Balances } from "../../src/ledger/balance-rules.js";
import { runBounded } from "../dev/bounded.js";
import { retried } from "./retried.js";
import { benchListPageSize, benchMismatchesListedMax } from "./limits.js";

export interface Mismatch {
  accountId: string;
  /** As stored (GetAccount). */
  available: string;
  settled: string;
  /** The fold of the stored transactions. */
  expectedAvailable: string;
  expectedSettled: string;
  transactions: number;
}

export interface BalanceCheck {
  accounts: number;
  ok: boolean;
  /** Every mismatching account counted; the first few listed. */
  mismatchCount: number;
  mismatches: Mismatch[];
}

/** The mismatch of one account, or undefined when its balances equal the fold. */
export function compareAccount(
  accountId: string,
  stored: Balances,
  transactions: readonly Pick<Transaction, "amount" | "status">[],
): Mismatch | undefined {
  const expected = foldBalances(transactions);
  if (expected.available === stored.available && expected.settled === stored.settled) return undefined;
  return {
    accountId,
    available: String(stored.available),
    settled: String(stored.settled),
    expectedAvailable: String(expected.available),
    expectedSettled: String(expected.settled),
    transactions: transactions.length,
  };
}

async function checkOne(client: LedgerClient, accountId: string): Promise<Mismatch | undefined> {
  return retried(() => checkOnce(client, accountId), undefined);
}

async function checkOnce(client: LedgerClient, accountId: string): Promise<Mismatch | undefined> {
  const transactions: Transaction[] = [];
  for await (const t of client.transactions(accountId, { pageSize: benchListPageSize })) transactions.push(t);
  const account = await client.getAccount(accountId);
  return compareAccount(
    accountId,
    { available: account.availableBalance, settled: account.settledBalance },
    transactions,
  );
}

/**
 * Checks every account, `concurrency` at a time. A call whose outcome the client never learned
 * (a deadline) may still be applied after the run, between our two reads of an account; a
 * mismatch therefore counts only if a second reading shows it too.
 */
export async function checkBalances(
  client: LedgerClient,
  accountIds: readonly string[],
  concurrency: number,
  onChecked: () => void = () => undefined,
): Promise<BalanceCheck> {
  const mismatches: Mismatch[] = [];
  await runBounded(accountIds.length, concurrency, async (i) => {
    const accountId = accountIds[i]!;
    if ((await checkOne(client, accountId)) !== undefined) {
      const again = await checkOne(client, accountId);
      if (again !== undefined) mismatches.push(again);
    }
    onChecked();
  });
  return {
    accounts: accountIds.length,
    ok: mismatches.length === 0,
    mismatchCount: mismatches.length,
    mismatches: mismatches.slice(0, benchMismatchesListedMax),
  };
}
