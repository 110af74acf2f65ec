// The workload's client in the simulator: the public LedgerService handlers themselves (the same
// validation, id stamping and mapping as the gateway), called in process over the gateway's
// real ClusterBackend. Like a gRPC client it gives up at its deadline with DEADLINE_EXCEEDED,
// whatever the handler is still doing; the handler is told through its abort signal.

import { create } from "@bufbuild/protobuf";
import { LedgerError } from "../../src/base/errors.js";
import {
  CancelTransactionRequestSchema,
  CreateAccountRequestSchema,
  CreateTransactionRequestSchema,
  GetAccountRequestSchema,
  GetTransactionRequestSchema,
  ListTransactionsRequestSchema,
  SettleTransactionRequestSchema,
  type Account,
  type LedgerService,
  type ListTransactionsResponse,
  type Transaction,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import type { HandlerContext, UnaryImpl } from "../../src/transport/grpc-service.js";
import type { WorkloadClient } from "../faults/workload.js";
import type { SimWorld } from "./world.js";

export class ServiceClient implements WorkloadClient {
  constructor(
    private readonly service: UnaryImpl<typeof LedgerService>,
    private readonly world: SimWorld,
    private readonly deadlineMs: number,
  ) {}

  async createAccount(input: { requestId?: string } = {}): Promise<Account> {
    const reply = await this.call((ctx) =>
      this.service.createAccount(create(CreateAccountRequestSchema, { requestId: input.requestId ?? "" }), ctx),
    );
    return present(reply.account, "account");
  }

  async getAccount(accountId: string): Promise<Account> {
    const reply = await this.call((ctx) =>
      this.service.getAccount(create(GetAccountRequestSchema, { accountId }), ctx),
    );
    return present(reply.account, "account");
  }

  async createTransaction(input: {
    accountId: string;
    amount: bigint;
    description?: string;
    settled?: boolean;
    requestId?: string;
  }): Promise<Transaction> {
    const request = create(CreateTransactionRequestSchema, {
      accountId: input.accountId,
      amount: input.amount,
      description: input.description ?? "",
      settled: input.settled ?? false,
      requestId: input.requestId ?? "",
    });
    const reply = await this.call((ctx) => this.service.createTransaction(request, ctx));
    return present(reply.transaction, "transaction");
  }

  async getTransaction(transactionId: string): Promise<Transaction> {
    const reply = await this.call((ctx) =>
      this.service.getTransaction(create(GetTransactionRequestSchema, { transactionId }), ctx),
    );
    return present(reply.transaction, "transaction");
  }

  async settleTransaction(transactionId: string): Promise<Transaction> {
    const reply = await this.call((ctx) =>
      this.service.settleTransaction(create(SettleTransactionRequestSchema, { transactionId }), ctx),
    );
    return present(reply.transaction, "transaction");
  }

  async cancelTransaction(transactionId: string): Promise<Transaction> {
    const reply = await this.call((ctx) =>
      this.service.cancelTransaction(create(CancelTransactionRequestSchema, { transactionId }), ctx),
    );
    return present(reply.transaction, "transaction");
  }

  listTransactions(input: {
    accountId: string;
    pageSize?: number;
    pageToken?: string;
  }): Promise<ListTransactionsResponse> {
    const request = create(ListTransactionsRequestSchema, {
      accountId: input.accountId,
      pageSize: input.pageSize ?? 0,
      pageToken: input.pageToken ?? "",
    });
    return this.call((ctx) => this.service.listTransactions(request, ctx));
  }

  close(): void {}

  private call<T>(run: (ctx: HandlerContext) => Promise<T>): Promise<T> {
    const deadlineMs = this.world.now + this.deadlineMs;
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const cancel = this.world.at(this.deadlineMs, () => {
        if (settled) return;
        settled = true;
        controller.abort();
        reject(new LedgerError("DEADLINE_EXCEEDED", "Deadline exceeded"));
      });
      run({ deadlineMs, signal: controller.signal, peer: "sim-client" }).then(
        (value) => {
          if (settled) return;
          settled = true;
          cancel();
          resolve(value);
        },
        (e: unknown) => {
          if (settled) return;
          settled = true;
          cancel();
          reject(e);
        },
      );
    });
  }
}

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new LedgerError("INTERNAL", `the service's reply has no ${what}`);
  return value;
}
