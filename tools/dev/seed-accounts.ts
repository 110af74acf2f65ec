// `dev seed-accounts`: creates accounts and prints their ids, one per line, on stdout (pipe them
// into other tools); progress and a summary go to stderr.

import type { Command } from "commander";
import { defaultLedgerAddress, type LedgerClient } from "../../src/client/ledger-client.js";
import { addApiSecurityOptions, connectLedger, type DevSecurityOptions } from "./security-options.js";
import { seedAccountsCountMax } from "./limits.js";
import { addressArg, integerArg } from "./arg-parsers.js";
import { runBounded } from "./bounded.js";
import { startProgress } from "./progress.js";
import { writeLine, type DevIo } from "./io.js";
import { seedConcurrencyDefault, seedConcurrencyMax } from "./limits.js";
export { seedConcurrencyDefault, seedConcurrencyMax } from "./limits.js";

export interface SeedAccountsOptions extends DevSecurityOptions {
  count: number;
  gateway: string;
  concurrency: number;
}

export async function seedAccounts(client: LedgerClient, options: SeedAccountsOptions, io: DevIo): Promise<void> {
  const startedAt = Date.now();
  const progress = startProgress(options.count, "seed-accounts", io.stderr);
  let created = 0;
  try {
    await runBounded(options.count, options.concurrency, async () => {
      const account = await client.createAccount();
      writeLine(io.stdout, account.id);
      created++;
      progress.increment();
    });
  } finally {
    progress.stop();
  }
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  writeLine(io.stderr, `seed-accounts: created ${created} accounts at ${client.address} in ${seconds} s`);
}

export function registerSeedAccounts(program: Command, io: DevIo): void {
  const command = program
    .command("seed-accounts")
    .description("create accounts and print their ids, one per line")
    .option(
      "--count <n>",
      `number of accounts to create (1..${seedAccountsCountMax})`,
      integerArg(1, seedAccountsCountMax),
      100,
    )
    .option("--gateway <host:port>", "address of the ledger API", addressArg, defaultLedgerAddress)
    .option(
      "--concurrency <n>",
      `calls in flight (1..${seedConcurrencyMax})`,
      integerArg(1, seedConcurrencyMax),
      seedConcurrencyDefault,
    );
  addApiSecurityOptions(command).action(async (options: SeedAccountsOptions) => {
    const client = await connectLedger(options.gateway, options);
    try {
      await seedAccounts(client, options, io);
    } finally {
      client.close();
    }
  });
}
