// An account's balances as the fold of its transactions (the ledger's conservation invariant):
// following balance-rules.ts, a SETTLED transaction reached both balances (created settled, or
// settled later); a PENDING purchase holds its amount on the available balance only; a PENDING
// topup, a CANCELLED one (its hold released) and an INSUFFICIENT_FUNDS one changed nothing.
// Used by the benchmark's balance check and the tests.

import { TransactionStatus, type Transaction } from "../gen/ledger/v1/ledger_pb.js";
import type { Balances } from "./balance-rules.js";

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
