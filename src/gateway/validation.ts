// Input checks of the public API. Bad input never reaches the core: every rule here rejects with
// INVALID_ARGUMENT and a message that starts with the offending field's name. Wire-level UTF-8
// errors are caught earlier by the transport (grpc-service.ts, which names the field's path and
// lets CreateTransactions fail such an item alone); these checks also hold for in-process
// callers (the cluster gateway, tests), whose strings may carry lone surrogates.

import { LedgerError } from "../base/errors.js";
import { descriptionBytesMax, pageSizeDefault, pageSizeMax, requestIdCharsMax } from "../base/limits.js";
import { int64Max, int64Min } from "../ledger/int64.js";
import { parseAccountId, parseTransactionId, type TransactionId } from "../ledger/ids.js";

export function validateAccountId(text: string, field = "account_id"): bigint {
  return parseAccountId(text, field);
}

export function validateTransactionId(text: string, field = "transaction_id"): TransactionId {
  return parseTransactionId(text, field);
}

export function validateAmount(amount: bigint, field = "amount"): bigint {
  if (amount === 0n) throw invalid(field, "must not be 0 (positive is a topup, negative a purchase)");
  // The wire type is int64; in-process callers hold unbounded bigints.
  if (amount < int64Min || amount > int64Max) throw invalid(field, "must fit in a signed 64-bit integer");
  return amount;
}

export function validateDescription(text: string, field = "description"): string {
  requireWellFormed(text, field);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > descriptionBytesMax) {
    throw invalid(field, `is ${bytes} bytes of UTF-8; at most ${descriptionBytesMax} are allowed`);
  }
  return text;
}

/** An empty request id means "none"; otherwise at most requestIdCharsMax Unicode characters. */
export function validateRequestId(text: string, field = "request_id"): string {
  requireWellFormed(text, field);
  // A code point takes one or two UTF-16 units: skip counting when the answer is already known.
  const chars = text.length <= requestIdCharsMax ? text.length : text.length > 2 * requestIdCharsMax ? Infinity : countCodePoints(text);
  if (chars > requestIdCharsMax) {
    throw invalid(field, `is longer than ${requestIdCharsMax} characters`);
  }
  return text;
}

/** The number of transactions to return: 0 asks for the default. */
export function validatePageSize(pageSize: number, field = "page_size"): number {
  if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > pageSizeMax) {
    throw invalid(field, `must be between 0 and ${pageSizeMax} (0 means ${pageSizeDefault}); got ${pageSize}`);
  }
  return pageSize === 0 ? pageSizeDefault : pageSize;
}

/** Lone UTF-16 surrogates cannot be encoded as UTF-8, so they cannot be stored or sent back. */
function requireWellFormed(text: string, field: string): void {
  if (loneSurrogate.test(text)) throw invalid(field, "is not valid UTF-8 (it contains a lone surrogate)");
}

// With the `u` flag a well-formed surrogate pair is one astral code point, so only lone
// surrogates match.
const loneSurrogate = /\p{Surrogate}/u;

function countCodePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function invalid(field: string, why: string): LedgerError {
  return new LedgerError("INVALID_ARGUMENT", `${field} ${why}`);
}
