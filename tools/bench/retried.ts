// Retrying the bench's setup and check calls: a loaded machine or a leader election can make a
// call time out now and then, which says nothing about the ledger. Only idempotent calls (reads,
// creates with a request id) come here.

import { LedgerError } from "../../src/base/errors.js";
import { benchSetupRetryMs } from "./limits.js";

/** Codes after which the same request may be sent again (it carries its request id). */
const retriable = new Set(["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"]);

/** `call`, again after a retriable failure, until benchSetupRetryMs have passed. */
export async function retried<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const deadline = Date.now() + benchSetupRetryMs;
  for (;;) {
    if (signal?.aborted) throw new LedgerError("CANCELLED", "interrupted");
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof LedgerError) || !retriable.has(e.code) || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
