// The ledger's deterministic state machine (DESIGN.md §5): one command in, one result and a
// list of writes out, over a synchronous view the caller prefetched. No clock (the time is in
// the command), no randomness (ids are in the command), no I/O. Every replica applying the
// same commands in the same order therefore produces the same bytes.

import { AssertionError, unreachable } from "../base/assert.js";
import type { Command } from "../gen/ledger/core/v1/core_pb.js";
import { createAccount } from "./account-rules.js";
import { cancelTransaction, createTransaction, settleTransaction } from "./transaction-rules.js";
import type { ApplyOutcome, LedgerView, RecordRef } from "./view.js";

/** The records `applyCommand` may read for this command; the caller prefetches them. */
export function recordsNeeded(command: Command): RecordRef[] {
  const { kind } = command;
  switch (kind.case) {
    case "createAccount":
      return [{ kind: "account", accountId: kind.value.accountId }];
    case "createTransaction":
    case "settleTransaction":
    case "cancelTransaction": {
      const { accountId, localId } = kind.value;
      return [
        { kind: "account", accountId },
        { kind: "transaction", accountId, localId },
      ];
    }
    case undefined:
      return emptyCommand();
    default:
      return unreachable(kind, "command kind");
  }
}

export function applyCommand(view: LedgerView, command: Command): ApplyOutcome {
  const { kind, timestamp } = command;
  switch (kind.case) {
    case "createAccount":
      return createAccount(view, kind.value, timestamp);
    case "createTransaction":
      return createTransaction(view, kind.value, timestamp);
    case "settleTransaction":
      return settleTransaction(view, kind.value, timestamp);
    case "cancelTransaction":
      return cancelTransaction(view, kind.value, timestamp);
    case undefined:
      return emptyCommand();
    default:
      return unreachable(kind, "command kind");
  }
}

/** The account a command belongs to (its shard is that account's shard). */
export function commandAccountId(command: Command): bigint {
  const { kind } = command;
  if (kind.case === undefined) return emptyCommand();
  return kind.value.accountId;
}

function emptyCommand(): never {
  throw new AssertionError("a command with no kind reached the core");
}

export type { ApplyOutcome, LedgerView, LedgerWrite, RecordRef } from "./view.js";
