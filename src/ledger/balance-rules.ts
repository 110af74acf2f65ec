// The balance effects of DESIGN.md §5, as pure functions of (balances, amount). Arithmetic is
// on unbounded bigints; the caller range-checks the results, so even amount = -2^63 (whose
// negation does not fit in int64) cannot wrap.

import { TransactionStatus } from "../gen/ledger/v1/ledger_pb.js";

export interface Balances {
  readonly available: bigint;
  readonly settled: bigint;
}

export interface CreateEffect {
  readonly status: TransactionStatus;
  readonly balances: Balances;
}

export function createEffect(before: Balances, amount: bigint, settled: boolean): CreateEffect {
  const { available } = before;
  if (amount > 0n) {
    if (!settled) return { status: TransactionStatus.PENDING, balances: before };
    return {
      status: TransactionStatus.SETTLED,
      balances: { available: available + amount, settled: before.settled + amount },
    };
  }
  // A purchase must not take the available balance below zero; it is recorded and changes nothing.
  if (available + amount < 0n) return { status: TransactionStatus.INSUFFICIENT_FUNDS, balances: before };
  if (!settled)
    return { status: TransactionStatus.PENDING, balances: { available: available + amount, settled: before.settled } };
  return {
    status: TransactionStatus.SETTLED,
    balances: { available: available + amount, settled: before.settled + amount },
  };
}

/** Settling a pending transaction: a topup reaches both balances, a purchase (already held on
 * the available balance) reaches the settled one. */
export function settleEffect(before: Balances, amount: bigint): Balances {
  if (amount > 0n) return { available: before.available + amount, settled: before.settled + amount };
  return { available: before.available, settled: before.settled + amount };
}

/** Cancelling a pending transaction: a topup never touched the balances; a purchase releases
 * its hold on the available balance. */
export function cancelEffect(before: Balances, amount: bigint): Balances {
  if (amount > 0n) return before;
  return { available: before.available - amount, settled: before.settled };
}
