// Input checks of the public API. Bad input never reaches the core: every rule here rejects with
// INVALID_ARGUMENT and a message that starts with the offending field's name. The rules
// themselves are the ledger's (src/ledger/command-rules.ts), which the node applies to every
// proposed command too, so the public and the internal path cannot drift apart. Wire-level
// UTF-8 errors are caught earlier by the transport (grpc-service.ts, which names the field's
// path and lets CreateTransactions fail such an item alone); these checks also hold for
// in-process callers (the cluster gateway, tests), whose strings may carry lone surrogates.

import { LedgerError } from "../base/errors.js";
import { pageSizeDefault, pageSizeMax } from "../ledger/limits.js";
import { amountProblem, descriptionProblem, requestIdProblem } from "../ledger/command-rules.js";
import { parseAccountId, parseTransactionId, type TransactionId } from "../ledger/ids.js";

export function validateAccountId(text: string, field = "account_id"): bigint {
  return parseAccountId(text, field);
}

export function validateTransactionId(text: string, field = "transaction_id"): TransactionId {
  return parseTransactionId(text, field);
}

export function validateAmount(amount: bigint, field = "amount"): bigint {
  check(field, amountProblem(amount));
  return amount;
}

/** At most descriptionBytesMax bytes of well-formed UTF-8. */
export function validateDescription(text: string, field = "description"): string {
  check(field, descriptionProblem(text));
  return text;
}

/** An empty request id means "none"; otherwise at most requestIdCharsMax Unicode characters. */
export function validateRequestId(text: string, field = "request_id"): string {
  check(field, requestIdProblem(text));
  return text;
}

/** The number of transactions to return: 0 asks for the default. */
export function validatePageSize(pageSize: number, field = "page_size"): number {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > pageSizeMax) {
    throw invalid(field, `must be between 0 and ${pageSizeMax} (0 means ${pageSizeDefault}); got ${pageSize}`);
  }
  return pageSize === 0 ? pageSizeDefault : pageSize;
}

function check(field: string, problem: string | undefined): void {
  if (problem !== undefined) throw invalid(field, problem);
}

function invalid(field: string, why: string): LedgerError {
  return new LedgerError("INVALID_ARGUMENT", `${field} ${why}`);
}
