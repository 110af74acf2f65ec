// After the run: every account's balances must equal the fold of its stored transactions
// (the ledger's conservation invariant, README "Invariants"). Read through the gateway.
//
// The fold follows src/ledger/balance-rules.ts: a SETTLED transaction reached both balances
// (created settled, or settled later); a PENDING purchase holds its amount on the available
// balance only; a PENDING topup, a CANCELLED one (its hold released) and an INSUFFICIENT_FUNDS
// one changed nothing.

import { TransactionStatus, type LedgerClient, type Transaction } from "../client/index.js";
import { runBounded } from "../dev/bounded.js";
import { retried } from "./retried.js";
import { benchListPageSize, benchMismatchesListedMax } from "../base/limits.js";

export interface Balances {
  available: bigint;
  settled: bigint;
}

export function foldBalances(transactions: Iterable<Pick<Transaction, "amount" | "status">>): Balances {
  let available = 0n;
  let settled = 0n;
  for (const t of transactions) {
    if (t.status === TransactionStatus.SETTLED) {
      available += t.amount;
      settled += t.amount;
    } else if (t.status === TransactionStatus.PENDING && t.amount < 0n) {
      available += t.amount;
    }
  }
  return { available, settled };
}

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
