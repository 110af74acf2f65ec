// The real clock and randomness for the public service. Kept out of the handlers so tests
// inject fixed ones, and so the replicated command carries the values chosen here.

import { randomBytes } from "node:crypto";
import type { LedgerServiceDeps } from "./ledger-service.js";

/** Wall-clock Unix time in nanoseconds (millisecond resolution: what Date gives). */
export function systemNowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** A uniformly random uint64 from the OS CSPRNG: ids must not be guessable or collide. */
export function cryptoRandomU64(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}

export function systemDeps(logger: LedgerServiceDeps["logger"]): LedgerServiceDeps {
  return { now: systemNowNanos, randomU64: cryptoRandomU64, logger };
}
