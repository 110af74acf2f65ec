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
  type LedgerService,
} from "../gen/ledger/v1/ledger_pb.js";
import type { CallOptions, LedgerBackend } from "../ledger/backend.js";
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
import { expectAccount, expectPage, expectTransaction, toApiAccount, toApiTransaction } from "./api-mapping.js";
import * as core from "./core-requests.js";

export interface LedgerServiceDeps {
  /** Unix nanoseconds; stamped into commands as created_at / updated_at. */
  now(): bigint;
  /** A uniformly random uint64, for ids of creates that carry no request_id. */
  randomU64(): bigint;
  logger: Logger;
}

const u64Max = (1n << 64n) - 1n;

export function createLedgerService(backend: LedgerBackend, deps: LedgerServiceDeps): UnaryImpl<typeof LedgerService> {
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

  return {
    async createAccount(request, ctx) {
      const requestId = validateRequestId(request.requestId);
      const accountId = requestId === "" ? randomId() : accountIdFromRequestId(requestId);
      const result = await backend.update(accountId, core.createAccountCommand(now(), accountId, requestId), callOptions(ctx));
      return create(CreateAccountResponseSchema, { account: toApiAccount(expectAccount(result)) });
    },

    async getAccount(request, ctx) {
      const accountId = validateAccountId(request.accountId);
      const result = await backend.query(accountId, core.getAccountQuery(accountId), callOptions(ctx));
      return create(GetAccountResponseSchema, { account: toApiAccount(expectAccount(result)) });
    },

    async createTransaction(request, ctx) {
      const accountId = validateAccountId(request.accountId);
      const amount = validateAmount(request.amount);
      const description = validateDescription(request.description);
      const requestId = validateRequestId(request.requestId);
      const localId = requestId === "" ? randomId() : transactionLocalIdFromRequestId(accountId, requestId);
      const command = core.createTransactionCommand(now(), { accountId, localId, amount, description, settled: request.settled, requestId });
      const result = await backend.update(accountId, command, callOptions(ctx));
      return create(CreateTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async getTransaction(request, ctx) {
      const ref = validateTransactionId(request.transactionId);
      const result = await backend.query(ref.accountId, core.getTransactionQuery(ref), callOptions(ctx));
      return create(GetTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async settleTransaction(request, ctx) {
      const ref = validateTransactionId(request.transactionId);
      const result = await backend.update(ref.accountId, core.settleTransactionCommand(now(), ref), callOptions(ctx));
      return create(SettleTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async cancelTransaction(request, ctx) {
      const ref = validateTransactionId(request.transactionId);
      const result = await backend.update(ref.accountId, core.cancelTransactionCommand(now(), ref), callOptions(ctx));
      return create(CancelTransactionResponseSchema, { transaction: toApiTransaction(expectTransaction(result)) });
    },

    async listTransactions(request, ctx) {
      const accountId = validateAccountId(request.accountId);
      const limit = validatePageSize(request.pageSize);
      const afterSeq = decodePageToken(request.pageToken, accountId);
      const result = await backend.query(accountId, core.listTransactionsQuery(accountId, afterSeq, limit), callOptions(ctx));
      const page = expectPage(result);
      assert(page.transactions.length <= limit, "core returned more transactions than the page size");
      return create(ListTransactionsResponseSchema, {
        transactions: page.transactions.map(toApiTransaction),
        nextPageToken: page.nextAfterSeq === 0n ? "" : encodePageToken({ accountId, afterSeq: page.nextAfterSeq }),
      });
    },
  };
}
