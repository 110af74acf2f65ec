// `dev scenario-1`: seed 001's walk-through on one account, printing every step: read the
// balance, instant topup +100, pending purchase -10, settle it, and a purchase of -1000 that the
// ledger records as INSUFFICIENT_FUNDS. On a fresh account the balances read (0, 0), (90, 100)
// and (90, 90).

import type { Command } from "commander";
import { defaultLedgerAddress, type LedgerClient } from "../../src/client/ledger-client.js";
import { addApiSecurityOptions, connectLedger, type DevSecurityOptions } from "./security-options.js";
import { TransactionStatus, type Account, type Transaction } from "../../src/gen/ledger/v1/ledger_pb.js";
import { accountIdArg, addressArg } from "./arg-parsers.js";
import { writeLine, type DevIo } from "./io.js";

export function formatBalance(account: Account): string {
  return `balance: available=${account.availableBalance} settled=${account.settledBalance}`;
}

export function formatTransaction(t: Transaction): string {
  const status = TransactionStatus[t.status] ?? `status ${t.status}`;
  return `transaction ${t.id}: amount=${t.amount} status=${status}`;
}

export async function runScenario1(client: LedgerClient, accountId: string, io: DevIo): Promise<void> {
  let stepNumber = 0;
  const step = (title: string) => writeLine(io.stdout, `step ${++stepNumber}: ${title}`);
  const show = (line: string) => writeLine(io.stdout, `  ${line}`);

  step(`get account ${accountId}`);
  show(formatBalance(await client.getAccount(accountId)));

  step("instant topup +100 (settled)");
  show(
    formatTransaction(
      await client.createTransaction({ accountId, amount: 100n, settled: true, description: "scenario-1 topup" }),
    ),
  );

  step("pending purchase -10");
  const purchase = await client.createTransaction({
    accountId,
    amount: -10n,
    settled: false,
    description: "scenario-1 purchase",
  });
  show(formatTransaction(purchase));

  step("get account");
  show(formatBalance(await client.getAccount(accountId)));

  step(`settle transaction ${purchase.id}`);
  show(formatTransaction(await client.settleTransaction(purchase.id)));

  step("get account");
  show(formatBalance(await client.getAccount(accountId)));

  step("pending purchase -1000 (more than the available balance)");
  show(
    formatTransaction(
      await client.createTransaction({
        accountId,
        amount: -1000n,
        settled: false,
        description: "scenario-1 large purchase",
      }),
    ),
  );
}

interface Scenario1Options extends DevSecurityOptions {
  accountId: string;
  gateway: string;
}

export function registerScenario1(program: Command, io: DevIo): void {
  const command = program
    .command("scenario-1")
    .description("run seed scenario 1 (topup, pending purchase, settle, insufficient funds) on an account")
    .requiredOption("--account-id <id>", "account id (16 lowercase hex characters)", accountIdArg)
    .option("--gateway <host:port>", "address of the ledger API", addressArg, defaultLedgerAddress);
  addApiSecurityOptions(command).action(async (options: Scenario1Options) => {
    const client = await connectLedger(options.gateway, options);
    try {
      await runScenario1(client, options.accountId, io);
    } finally {
      client.close();
    }
  });
}
