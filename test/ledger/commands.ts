// Builders and unwrappers shared by the ledger, storage and local-backend tests.

import { create } from "@bufbuild/protobuf";
import { expect } from "vitest";
import {
  CommandSchema,
  CoreErrorCode,
  type AccountRecord,
  type Command,
  type CommandResult,
  type CoreError,
  type QueryResult,
  type TransactionRecord,
} from "../../src/gen/ledger/core/v1/core_pb.js";

/** A fixed "now" in Unix nanoseconds; tests add small offsets to tell steps apart. */
export const t0 = 1_700_000_000_000_000_000n;

export function createAccountCommand(
  accountId: bigint,
  options: { requestId?: string; timestamp?: bigint } = {},
): Command {
  return create(CommandSchema, {
    timestamp: options.timestamp ?? t0,
    kind: { case: "createAccount", value: { accountId, requestId: options.requestId ?? "" } },
  });
}

export interface CreateTransactionFields {
  accountId: bigint;
  localId: bigint;
  amount: bigint;
  settled: boolean;
  description?: string;
  requestId?: string;
  timestamp?: bigint;
}

export function createTransactionCommand(fields: CreateTransactionFields): Command {
  const { accountId, localId, amount, settled } = fields;
  return create(CommandSchema, {
    timestamp: fields.timestamp ?? t0,
    kind: {
      case: "createTransaction",
      value: {
        accountId,
        localId,
        amount,
        settled,
        description: fields.description ?? "",
        requestId: fields.requestId ?? "",
      },
    },
  });
}

export function settleCommand(accountId: bigint, localId: bigint, timestamp = t0, attemptId = 0n): Command {
  return create(CommandSchema, {
    timestamp,
    kind: { case: "settleTransaction", value: { accountId, localId, attemptId } },
  });
}

export function cancelCommand(accountId: bigint, localId: bigint, timestamp = t0, attemptId = 0n): Command {
  return create(CommandSchema, {
    timestamp,
    kind: { case: "cancelTransaction", value: { accountId, localId, attemptId } },
  });
}

export function accountOf(result: CommandResult | QueryResult): AccountRecord {
  expect(result.kind.case).toBe("account");
  return result.kind.value as AccountRecord;
}

export function transactionOf(result: CommandResult | QueryResult): TransactionRecord {
  expect(result.kind.case, JSON.stringify(result.kind.case === "error" ? result.kind.value.message : "")).toBe(
    "transaction",
  );
  return result.kind.value as TransactionRecord;
}

export function errorOf(result: CommandResult | QueryResult, code: CoreErrorCode): CoreError {
  expect(result.kind.case).toBe("error");
  const error = result.kind.value as CoreError;
  expect(CoreErrorCode[error.code]).toBe(CoreErrorCode[code]);
  return error;
}
