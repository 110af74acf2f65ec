// What a careful client does after a call whose outcome is open (UNAVAILABLE, DEADLINE_EXCEEDED):
// call again, with the same request, until the ledger answers. Safe for creates with a request_id
// and for reads.

import { isLedgerError } from "../../src/base/errors.js";

export async function untilAnswered<T>(call: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      const open = isLedgerError(e) && (e.code === "UNAVAILABLE" || e.code === "DEADLINE_EXCEEDED");
      if (!open || Date.now() > deadline) throw e;
    }
  }
}
