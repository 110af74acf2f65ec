// How the client reports failures. The transport already decodes the server's status into a
// LedgerError; what it cannot say is that no server answered at all. grpc-js reports both as
// UNAVAILABLE (or DEADLINE_EXCEEDED while still connecting), so the channel's state at the
// time of the failure tells them apart, and the unreachable case gets a message naming the
// address the caller dialled.

import { LedgerError, type ErrorCode } from "../base/errors.js";
import { fromServiceError } from "../transport/status.js";

export function unreachableError(code: ErrorCode, address: string, cause: string): LedgerError {
  // grpc-js ends connection failures with an empty "Resolution note: "; it only adds noise.
  const reason = cause.replace(/\.?\s*Resolution note:\s*$/, "");
  return new LedgerError(code, `cannot reach ledger at ${address} (${reason})`, { address });
}

/** `connected`: whether the channel was connected when the call failed. */
export function toLedgerError(e: unknown, address: string, connected: boolean): LedgerError {
  const error = fromServiceError(e);
  if (!connected && (error.code === "UNAVAILABLE" || error.code === "DEADLINE_EXCEEDED")) {
    return unreachableError(error.code, address, error.message);
  }
  return error;
}
