// One error class over a closed set of codes for expected operational failures. Callers
// decide by code, never by message text. Codes map to gRPC status codes in one place at the
// transport edge (src/transport/status.ts). Ledger business outcomes are not errors: they are
// values (a status stored with the record).

export const ErrorCodes = [
  "INVALID_ARGUMENT",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "FAILED_PRECONDITION",
  "OUT_OF_RANGE",
  "RESOURCE_EXHAUSTED",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
  "NOT_LEADER",
  "ABORTED",
  "CANCELLED",
  "INTERNAL",
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class LedgerError extends Error {
  override name = "LedgerError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable detail, e.g. the leader hint of NOT_LEADER. */
    readonly details: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export function isLedgerError(e: unknown): e is LedgerError {
  return e instanceof LedgerError;
}
