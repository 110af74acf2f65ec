// The LedgerError a call failed with; fails the test if the call succeeded or failed otherwise.

import { LedgerError } from "../../src/base/errors.js";

export async function ledgerRejection(call: Promise<unknown>): Promise<LedgerError> {
  let outcome: unknown;
  try {
    await call;
  } catch (e) {
    outcome = e;
    if (e instanceof LedgerError) return e;
  }
  throw new Error(
    outcome === undefined ? "expected the call to fail" : `expected a LedgerError, got ${String(outcome)}`,
  );
}
