// Between the core's records and results and the public API's messages. The core answers with
// a record or a CoreError value; here a CoreError becomes the LedgerError the caller sees (same
// code, the core's message) and a result of the wrong kind is a broken invariant.

import { create } from "@bufbuild/protobuf";
import { status as GrpcStatus } from "@grpc/grpc-js";
import {
  AccountSchema,
  ItemErrorSchema,
  TransactionSchema,
  type Account,
  type ItemError,
  type Transaction,
} from "../gen/ledger/v1/ledger_pb.js";
import { grpcStatusOf } from "../transport/status.js";
import {
  CoreErrorCode,
  type AccountRecord,
  type CommandResult,
  type CoreError,
  type QueryResult,
  type TransactionPage,
  type TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import { LedgerError, type ErrorCode } from "../base/errors.js";
import { assert } from "../base/assert.js";
import { formatAccountId, formatTransactionId } from "../ledger/ids.js";

export function toApiAccount(record: AccountRecord): Account {
  return create(AccountSchema, {
    id: formatAccountId(record.id),
    availableBalance: record.availableBalance,
    settledBalance: record.settledBalance,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });
}

export function toApiTransaction(record: TransactionRecord): Transaction {
  return create(TransactionSchema, {
    id: formatTransactionId(record),
    amount: record.amount,
    description: record.description,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });
}

const errorCodes: Record<Exclude<CoreErrorCode, CoreErrorCode.UNSPECIFIED>, ErrorCode> = {
  [CoreErrorCode.NOT_FOUND]: "NOT_FOUND",
  [CoreErrorCode.FAILED_PRECONDITION]: "FAILED_PRECONDITION",
  [CoreErrorCode.OUT_OF_RANGE]: "OUT_OF_RANGE",
  [CoreErrorCode.ALREADY_EXISTS]: "ALREADY_EXISTS",
};

export function toLedgerError(error: CoreError): LedgerError {
  const code = errorCodes[error.code as keyof typeof errorCodes];
  assert(code !== undefined, `core returned an error with unknown code ${error.code}: ${error.message}`);
  return new LedgerError(code, error.message);
}

type Result = CommandResult | QueryResult;

/** A refusal of the core (a value in its result) becomes the LedgerError the caller sees. */
function throwIfRefused(kind: Result["kind"]): void {
  if (kind.case === "error") throw toLedgerError(kind.value);
}

export function expectAccount(result: Result): AccountRecord {
  const { kind } = result;
  throwIfRefused(kind);
  assert(kind.case === "account", `core answered ${String(kind.case)} where an account was expected`);
  return kind.value;
}

export function expectTransaction(result: Result): TransactionRecord {
  const { kind } = result;
  throwIfRefused(kind);
  assert(kind.case === "transaction", `core answered ${String(kind.case)} where a transaction was expected`);
  return kind.value;
}

export function expectPage(result: QueryResult): TransactionPage {
  const { kind } = result;
  throwIfRefused(kind);
  assert(kind.case === "page", `core answered ${String(kind.case)} where a page was expected`);
  return kind.value;
}

/** A failed item of a batched call: the gRPC status code (by name) and message the same failure
 * would have ended a unary call with (NOT_LEADER, for one, is UNAVAILABLE there too). */
export function toItemError(e: LedgerError): ItemError {
  const code = GrpcStatus[grpcStatusOf(e.code)];
  assert(code !== undefined, `no gRPC status name for ${e.code}`);
  return create(ItemErrorSchema, { code, message: e.message });
}
