// CreateAccount (DESIGN.md §4, §5). The id is chosen outside the core (random, or derived from
// the request id); a second create of the same id is a retry when the request id matches
// (including two empty request ids: the gateway retrying its own proposal with the id it
// drew), and a collision otherwise.

import { create } from "@bufbuild/protobuf";
import { AccountRecordSchema, type CreateAccount } from "../gen/ledger/core/v1/core_pb.js";
import { formatAccountId } from "./ids.js";
import { accountOutcome, alreadyExists } from "./results.js";
import type { ApplyOutcome, LedgerView } from "./view.js";

export function createAccount(view: LedgerView, command: CreateAccount, timestamp: bigint): ApplyOutcome {
  const existing = view.getAccount(command.accountId);
  if (existing !== undefined) {
    if (existing.requestId === command.requestId) return accountOutcome(existing, []);
    return alreadyExists(`account ${formatAccountId(command.accountId)} already exists`);
  }
  const record = create(AccountRecordSchema, {
    id: command.accountId,
    availableBalance: 0n,
    settledBalance: 0n,
    createdAt: timestamp,
    updatedAt: timestamp,
    requestId: command.requestId,
    transactionCount: 0n,
  });
  return accountOutcome(record, [{ kind: "account", record }]);
}
