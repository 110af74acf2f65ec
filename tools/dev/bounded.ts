// Runs `count` tasks with at most `concurrency` in flight. After the first failure no new task
// starts; the ones in flight finish, then the first error is thrown, so the caller never
// returns while requests are still running.

import { assert } from "../../src/base/assert.js";

export async function runBounded(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  assert(Number.isInteger(count) && count >= 0, `count must be a non-negative integer: ${count}`);
  assert(Number.isInteger(concurrency) && concurrency >= 1, `concurrency must be a positive integer: ${concurrency}`);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure.error;
}
