// Starting cmd/standalone.ts as a real process for end-to-end tests, with a raw typed client.

import { create } from "@bufbuild/protobuf";
import {
  CreateAccountRequestSchema,
  CreateTransactionRequestSchema,
  GetAccountRequestSchema,
  GetTransactionRequestSchema,
  LedgerService,
  ListTransactionsRequestSchema,
  type Account,
  type Transaction,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { createUnaryClient, type UnaryClient } from "../../src/transport/grpc-service.js";
import { startTsProcess, type TestProcess } from "../support/processes.js";

export type LedgerClient = UnaryClient<typeof LedgerService>;

export interface RunningStandalone {
  process: TestProcess;
  address: string;
  client: LedgerClient;
}

/** Starts the server on a free loopback port and waits for its "listening" log line. */
export async function startStandalone(dataDir: string, extraArgs: string[] = []): Promise<RunningStandalone> {
  const process = startTsProcess("cmd/standalone.ts", ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, ...extraArgs], {
    name: "standalone",
  });
  const listening = await process.waitForJson((entry) => entry.msg === "listening");
  const address = String(listening.address);
  const client = createUnaryClient(LedgerService, address, { defaultDeadlineMs: 10_000 });
  return { process, address, client };
}

export async function createAccount(client: LedgerClient, requestId = ""): Promise<Account> {
  return (await client.createAccount(create(CreateAccountRequestSchema, { requestId }))).account!;
}

export async function getAccount(client: LedgerClient, accountId: string): Promise<Account> {
  return (await client.getAccount(create(GetAccountRequestSchema, { accountId }))).account!;
}

export async function balancesOf(client: LedgerClient, accountId: string): Promise<[bigint, bigint]> {
  const account = await getAccount(client, accountId);
  return [account.availableBalance, account.settledBalance];
}

export interface NewTransaction {
  amount: bigint;
  settled: boolean;
  description?: string;
  requestId?: string;
}

export async function createTransaction(client: LedgerClient, accountId: string, t: NewTransaction): Promise<Transaction> {
  return (await client.createTransaction(create(CreateTransactionRequestSchema, { accountId, ...t }))).transaction!;
}

export async function getTransaction(client: LedgerClient, transactionId: string): Promise<Transaction> {
  return (await client.getTransaction(create(GetTransactionRequestSchema, { transactionId }))).transaction!;
}

/** Every transaction of the account, following page tokens; also the size of each page. */
export async function listAll(client: LedgerClient, accountId: string, pageSize = 0): Promise<{ transactions: Transaction[]; pageSizes: number[] }> {
  const transactions: Transaction[] = [];
  const pageSizes: number[] = [];
  let pageToken = "";
  do {
    const page = await client.listTransactions(create(ListTransactionsRequestSchema, { accountId, pageSize, pageToken }));
    transactions.push(...page.transactions);
    pageSizes.push(page.transactions.length);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return { transactions, pageSizes };
}
