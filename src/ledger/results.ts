// Constructors for the values the core returns. Refusals that change nothing are CoreError
// results, never exceptions: exceptions are reserved for broken invariants.

import { create } from "@bufbuild/protobuf";
import {
  CommandResultSchema,
  CoreErrorCode,
  CoreErrorSchema,
  type AccountRecord,
  type TransactionRecord,
} from "../gen/ledger/core/v1/core_pb.js";
import type { ApplyOutcome, LedgerWrite } from "./view.js";

// Results on the apply path are literals, not create(): protobuf-es's reflective create() was a
// few percent of a node's busy time, and these messages have no fields to default.
export function accountOutcome(record: AccountRecord, writes: readonly LedgerWrite[]): ApplyOutcome {
  return { result: { $typeName: "ledger.core.v1.CommandResult", kind: { case: "account", value: record } }, writes };
}

export function transactionOutcome(record: TransactionRecord, writes: readonly LedgerWrite[]): ApplyOutcome {
  return {
    result: { $typeName: "ledger.core.v1.CommandResult", kind: { case: "transaction", value: record } },
    writes,
  };
}

export function refusal(code: CoreErrorCode, message: string): ApplyOutcome {
  const error = create(CoreErrorSchema, { code, message });
  return { result: create(CommandResultSchema, { kind: { case: "error", value: error } }), writes: [] };
}

export const notFound = (message: string): ApplyOutcome => refusal(CoreErrorCode.NOT_FOUND, message);
export const failedPrecondition = (message: string): ApplyOutcome =>
  refusal(CoreErrorCode.FAILED_PRECONDITION, message);
export const outOfRange = (message: string): ApplyOutcome => refusal(CoreErrorCode.OUT_OF_RANGE, message);
export const alreadyExists = (message: string): ApplyOutcome => refusal(CoreErrorCode.ALREADY_EXISTS, message);
