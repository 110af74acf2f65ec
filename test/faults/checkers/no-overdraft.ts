// Checker 3: no purchase ever took an available balance below zero. Evidence: the final stored
// transactions in creation order (which is log order: each create takes the next sequence
// number when it is applied). Settles and cancels carry no log position in the stored record,
// so the check uses the most available balance there can have been when each purchase was
// applied: every earlier topup that ends SETTLED counted (it may have been settled before),
// every earlier purchase that still holds funds (PENDING or SETTLED) counted, every earlier
// cancelled purchase released. A purchase that was accepted (stored PENDING, SETTLED or
// CANCELLED, i.e. not INSUFFICIENT_FUNDS) although even that bound could not cover it is a
// certain overdraft. The check never raises a false alarm; the exact check along one order of
// all operations is the linearizability checker's model, which refuses any overdraft.

import { TransactionStatus } from "../../../src/gen/ledger/v1/ledger_pb.js";
import type { FinalState } from "../history.js";
import { foldBalances } from "./conservation.js";
import type { Verdict } from "./verdict.js";

export interface Overdraft {
  readonly accountId: string;
  /** Empty when the problem is the final available balance itself. */
  readonly transactionId: string;
  readonly message: string;
}

export interface NoOverdraftResult {
  readonly verdict: Verdict;
  readonly overdrafts: readonly Overdraft[];
  readonly purchasesChecked: number;
}

export function checkNoOverdraft(final: FinalState): NoOverdraftResult {
  const overdrafts: Overdraft[] = [];
  let purchasesChecked = 0;
  for (const [accountId, state] of final) {
    let mostAvailable = 0n;
    for (const t of state.transactions) {
      const accepted = t.status !== TransactionStatus.INSUFFICIENT_FUNDS;
      if (t.amount < 0n && accepted) {
        purchasesChecked++;
        if (mostAvailable + t.amount < 0n) {
          overdrafts.push({
            accountId,
            transactionId: t.id,
            message: `purchase ${t.id} of ${t.amount} was accepted (${TransactionStatus[t.status]}) when at most ${mostAvailable} was available`,
          });
        }
      }
      const holds = t.status === TransactionStatus.SETTLED || t.status === TransactionStatus.PENDING;
      if ((t.amount > 0n && t.status === TransactionStatus.SETTLED) || (t.amount < 0n && holds))
        mostAvailable += t.amount;
    }
    const available = state.account.availableBalance;
    if (available < 0n || foldBalances(state.transactions).available < 0n) {
      overdrafts.push({
        accountId,
        transactionId: "",
        message: `the available balance ends at ${available} (its transactions add up to ${foldBalances(state.transactions).available})`,
      });
    }
  }
  return { verdict: overdrafts.length === 0 ? "ok" : "illegal", overdrafts, purchasesChecked };
}
