// Starting cmd/standalone.ts as a real process for end-to-end tests, driven through the typed client.

import type { Account, Transaction } from "../../src/gen/ledger/v1/ledger_pb.js";
import { LedgerClient } from "../../src/client/ledger-client.js";
import { startTsProcess, type TestProcess } from "../support/processes.js";
import { makeTestSecrets, type TestSecrets } from "../support/test-secrets.js";

export { LedgerClient };

export interface RunningStandalone {
  process: TestProcess;
  address: string;
  client: LedgerClient;
  secrets: TestSecrets;
}

/** Secrets per data dir: a restarted server keeps its certificate and keys, as in production. */
const secretsByDataDir = new Map<string, TestSecrets>();

/** Starts the server (TLS and API keys, as by default) on a free loopback port and waits for
 * its "listening" log line; its client calls with the admin key. */
export async function startStandalone(dataDir: string, extraArgs: string[] = []): Promise<RunningStandalone> {
  let secrets = secretsByDataDir.get(dataDir);
  if (secrets === undefined) secretsByDataDir.set(dataDir, (secrets = await makeTestSecrets()));
  const process = startTsProcess(
    "cmd/standalone.ts",
    ["--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, ...secrets.args, ...extraArgs],
    {
      name: "standalone",
    },
  );
  const listening = await process.waitForJson((entry) => entry.msg === "listening");
  const address = String(listening.address);
  const client = LedgerClient.connect(address, { deadlineMs: 10_000, ...secrets.client() });
  return { process, address, client, secrets };
}

export async function createAccount(client: LedgerClient, requestId = ""): Promise<Account> {
  return client.createAccount({ requestId });
}

export async function getAccount(client: LedgerClient, accountId: string): Promise<Account> {
  return client.getAccount(accountId);
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

export async function createTransaction(
  client: LedgerClient,
  accountId: string,
  t: NewTransaction,
): Promise<Transaction> {
  return client.createTransaction({ accountId, ...t });
}

export async function getTransaction(client: LedgerClient, transactionId: string): Promise<Transaction> {
  return client.getTransaction(transactionId);
}

/** Every transaction of the account, following page tokens; also the size of each page. */
export async function listAll(
  client: LedgerClient,
  accountId: string,
  pageSize = 0,
): Promise<{ transactions: Transaction[]; pageSizes: number[] }> {
  const transactions: Transaction[] = [];
  const pageSizes: number[] = [];
  let pageToken = "";
  do {
    const page = await client.listTransactions({ accountId, pageSize, pageToken });
    transactions.push(...page.transactions);
    pageSizes.push(page.transactions.length);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return { transactions, pageSizes };
}
