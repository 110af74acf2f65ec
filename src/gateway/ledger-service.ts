// The public LedgerService, written once against LedgerBackend: the standalone server backs it
// with the in-process engine, the cluster gateway with the Raft router. Each handler validates,
// stamps ids and time, makes one backend call with the caller's deadline and maps the answer.

import { create } from "@bufbuild/protobuf";
import {
  CancelTransactionResponseSchema,
  CreateAccountResponseSchema,
  CreateTransactionResponseSchema,
  GetAccountResponseSchema,
  GetTransactionResponseSchema,
  ListTransactionsResponseSchema,
  SettleTransactionResponseSchema,
  CreateTransactionResultSchema,
  CreateTransactionsResponseSchema,
  type CreateTransactionRequest,
  type CreateTransactionResult,
  type LedgerService,
} from "../gen/ledger/v1/ledger_pb.js";
import type { CommandResult } from "../gen/ledger/core/v1/core_pb.js";
import type { CallOptions, LedgerBackend, UpdateItem } from "../ledger/backend.js";
import { LedgerError, isLedgerError } from "../base/errors.js";
import { createTransactionsItemsMax } from "../ledger/limits.js";
import type { HandlerContext, UnaryImpl } from "../transport/grpc-service.js";
import type { Logger } from "../base/logger.js";
import { assert } from "../base/assert.js";
import {
  validateAccountId,
  validateAmount,
  validateDescription,
  validatePageSize,
  validateRequestId,
  validateTransactionId,
} from "./validation.js";
import { accountIdFromRequestId, transactionLocalIdFromRequestId } from "./request-ids.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import {
  expectAccount,
  expectPage,
  expectTransaction,
  toApiAccount,
  toApiTransaction,
  toItemError,
  toLedgerError,
} from "./api-mapping.js";
import * as core from "./core-requests.js";

export interface LedgerServiceDeps {
  /** Unix nanoseconds; stamped into commands as created_at / updated_at. */
  now(): bigint;
  /** A uniformly random uint64, for ids of creates that carry no request_id. */
  randomU64(): bigint;
  logger: Logger;
}

const u64Max = (1n << 64n) - 1n;

/** Told of the outcome of every item of a CreateTransactions call: "OK" (created) or the item's
 * error code. The call itself answers OK whatever its items' outcomes. */
export type BatchItemObserver = (code: string) => void;

/** The methods whose handlers judge invalid UTF-8 per field themselves (addUnaryService's
 * checksUtf8Itself): one item of a batch with a bad string fails alone. */
export const ledgerMethodsCheckingUtf8: readonly string[] = ["createTransactions"];

const itemFieldPattern = /^transactions\[(\d+)\]\./;

export function createLedgerService(
  backend: LedgerBackend,
  deps: LedgerServiceDeps,
  observeBatchItem?: BatchItemObserver,
): UnaryImpl<typeof LedgerService> {
  const callOptions = (ctx: HandlerContext): CallOptions => ({ deadlineMs: ctx.deadlineMs });
  const randomId = (): bigint => {
    const id = deps.randomU64();
    assert(id >= 0n && id <= u64Max, "randomU64 returned a value outside uint64");
    return id;
  };
  const now = (): bigint => {
    const t = deps.now();
    assert(t > 0n, "the clock returned a non-positive time");
    return t;
  };

  /** Validates a CreateTransaction request (fields named after `prefix`) and builds its command;
   * ids from the request_id exactly as CreateTransaction does, so both calls meet the same record. */
  const newTransaction = (request: CreateTransactionRequest, timestamp: bigint, prefix: string): UpdateItem => {
    const accountId = validateAccountId(request.accountId, `${prefix}account_id`);
    const amount = validateAmount(request.amount, `${prefix}amount`);
    const description = validateDescription(request.description, `${prefix}description`);
    const requestId = validateRequestId(request.requestId, `${prefix}request_id`);
    const localId = requestId === "" ? randomId() : transactionLocalIdFromRequestId(accountId, requestId);
    return {
      accountId,
      command: core.createTransactionCommand(timestamp, {
        accountId,
        localId,
        amount,
        description,
        settled: request.settled,
        requestId,
      }),
    };
  };

  return {
    async createAccount(request, ctx) {
      const requestId = validateRequestId(request.requestId);
      const accountId = requestId === "" ? randomId() : accountIdFromRequestId(requestId);
      const result = await backend.update(
        accountId,
        core.createAccountCommand(now(), accountId, requestId),
        callOptions(ctx),
      );
      return create(CreateAccountResponseSchema, { account: toApiAccount(expectAccount(result)) });
    },

    async getAccount(request, ctx) {
      const accountId = validateAccountId(request.accountId);
      const result = await backend.query(accountId, core.getAccountQuery(accountId), callOptions(ctx));
      return create(GetAccountResponseSchema, { account: toApiAccount(expectAccount(result)) });
    },

    async createTransaction(request, ctx) {
      const item = newTransaction(request, now(), "");
      const result = await backend.update(item.accountId, item.command, callOptions(ctx));
      return create(CreateTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async createTransactions(request, ctx) {
      const requests = request.transactions;
      if (requests.length < 1 || requests.length > createTransactionsItemsMax) {
        throw new LedgerError(
          "INVALID_ARGUMENT",
          `transactions must hold 1 to ${createTransactionsItemsMax} items (createTransactionsItemsMax); got ${requests.length}`,
        );
      }
      // Each item exactly as CreateTransaction would take it; an invalid one fails alone and is
      // not sent. One timestamp for the call: its items are created at the same moment.
      const timestamp = now();
      const results = new Array<CreateTransactionResult>(requests.length);
      // Strings that were not valid UTF-8 on the wire (decoded with U+FFFD): their item fails
      // alone, naming the field; one outside every item fails the call.
      for (const field of ctx.invalidUtf8Fields ?? []) {
        const i = Number(itemFieldPattern.exec(field)?.[1] ?? -1);
        if (i < 0 || i >= requests.length) throw new LedgerError("INVALID_ARGUMENT", `${field} is not valid UTF-8`);
        results[i] ??= itemFailure(new LedgerError("INVALID_ARGUMENT", `${field} is not valid UTF-8`));
      }
      const items: UpdateItem[] = [];
      const positions: number[] = [];
      for (const [i, item] of requests.entries()) {
        if (results[i] !== undefined) continue;
        try {
          items.push(newTransaction(item, timestamp, `transactions[${i}].`));
          positions.push(i);
        } catch (e) {
          if (!isLedgerError(e)) throw e;
          results[i] = itemFailure(e);
        }
      }
      const outcomes = items.length === 0 ? [] : await backend.updateMany(items, callOptions(ctx));
      assert(outcomes.length === items.length, "the backend answered every item");
      for (const [k, outcome] of outcomes.entries()) results[positions[k]!] = itemOutcome(outcome);
      if (observeBatchItem !== undefined) {
        for (const r of results)
          observeBatchItem(r.outcome.case === "transaction" ? "OK" : (r.outcome.value?.code ?? "INTERNAL"));
      }
      return create(CreateTransactionsResponseSchema, { results });
    },

    async getTransaction(request, ctx) {
      const ref = validateTransactionId(request.transactionId);
      const result = await backend.query(ref.accountId, core.getTransactionQuery(ref), callOptions(ctx));
      return create(GetTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async settleTransaction(request, ctx) {
      const ref = validateTransactionId(request.transactionId);
      const result = await backend.update(
        ref.accountId,
        core.settleTransactionCommand(now(), ref, randomId()),
        callOptions(ctx),
      );
      return create(SettleTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async cancelTransaction(request, ctx) {
      const ref = validateTransactionId(request.transactionId);
      const result = await backend.update(
        ref.accountId,
        core.cancelTransactionCommand(now(), ref, randomId()),
        callOptions(ctx),
      );
      return create(CancelTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async listTransactions(request, ctx) {
      const accountId = validateAccountId(request.accountId);
      const limit = validatePageSize(request.pageSize);
      const afterSeq = decodePageToken(request.pageToken, accountId);
      const result = await backend.query(
        accountId,
        core.listTransactionsQuery(accountId, afterSeq, limit),
        callOptions(ctx),
      );
      const page = expectPage(result);
      assert(page.transactions.length <= limit, "core returned more transactions than the page size");
      return create(ListTransactionsResponseSchema, {
        transactions: page.transactions.map(toApiTransaction),
        nextPageToken: page.nextAfterSeq === 0n ? "" : encodePageToken({ accountId, afterSeq: page.nextAfterSeq }),
      });
    },
  };
}

function itemFailure(e: LedgerError): CreateTransactionResult {
  return create(CreateTransactionResultSchema, { outcome: { case: "error", value: toItemError(e) } });
}

/** An item's outcome mapped exactly as CreateTransaction maps its result or error. */
function itemOutcome(outcome: CommandResult | LedgerError): CreateTransactionResult {
  if (outcome instanceof LedgerError) return itemFailure(outcome);
  if (outcome.kind.case === "error") return itemFailure(toLedgerError(outcome.kind.value));
  return create(CreateTransactionResultSchema, {
    outcome: { case: "transaction", value: toApiTransaction(expectTransaction(outcome)) },
  });
}
