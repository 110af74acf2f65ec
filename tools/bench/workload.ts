// What one benchmark request is: a random account, a random non-zero amount in
// [benchAmountMinUnits, benchAmountMaxUnits] (negative: a purchase, positive: a topup), settled
// at once or pending, each with probability one half. Drawn from a seeded PRNG so a run's
// sequence of requests per client can be replayed from --seed.

import { assert } from "../../src/base/assert.js";
import type { Prng } from "../../src/base/prng.js";
import type { CreateTransactionInput } from "../../src/client/index.js";
import { benchAmountMaxUnits, benchAmountMinUnits } from "./limits.js";

const negativeAmounts = -benchAmountMinUnits;
const amountChoices = negativeAmounts + benchAmountMaxUnits;

/** A uniform non-zero amount in [benchAmountMinUnits, benchAmountMaxUnits]. */
export function drawAmount(prng: Prng): bigint {
  const i = prng.intBelow(amountChoices);
  // 0..49 -> -50..-1, 50..149 -> 1..100: zero is skipped, not redrawn.
  return BigInt(i < negativeAmounts ? i - negativeAmounts : i - negativeAmounts + 1);
}

export function drawRequest(prng: Prng, accountIds: readonly string[]): CreateTransactionInput {
  assert(accountIds.length > 0, "the workload needs at least one account");
  const accountId = accountIds[prng.intBelow(accountIds.length)]!;
  const amount = drawAmount(prng);
  return { accountId, amount, settled: prng.nextU32() % 2 === 0, description: "bench" };
}

/** One batched request: `size` independent draws, as a client of the single mode would make them. */
export function drawBatch(prng: Prng, accountIds: readonly string[], size: number): CreateTransactionInput[] {
  assert(size >= 1, "a batch has at least one item");
  const items = new Array<CreateTransactionInput>(size);
  for (let i = 0; i < size; i++) items[i] = drawRequest(prng, accountIds);
  return items;
}
