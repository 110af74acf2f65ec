// The dev CLI against a real standalone server (seed 001's "how to run"): seed-accounts prints
// ids of accounts that exist, and scenario-1 walks topup, pending purchase, settle and
// insufficient funds with the balances of the seed's README.

import { describe, expect, it } from "vitest";
import { LedgerClient } from "../../src/client/ledger-client.js";
import { TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import { startTsProcess } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";
import { makeTestSecrets, type TestSecrets } from "../support/test-secrets.js";

autoCleanup();

let secrets: TestSecrets;

/** A standalone server secured as by default; the dev CLI finds its secrets by --secrets-dir. */
async function startStandalone(): Promise<string> {
  const dataDir = await makeTempDir();
  secrets = await makeTestSecrets();
  const server = startTsProcess("cmd/standalone.ts", ["--port", "0", "--data-dir", dataDir, ...secrets.args], {
    name: "standalone",
  });
  const listening = await server.waitForJson((entry) => entry.msg === "listening");
  expect(listening.address).toMatch(/^127\.0\.0\.1:\d+$/);
  return listening.address as string;
}

async function runDev(args: string[]) {
  const proc = startTsProcess("cmd/dev.ts", [...args, ...secrets.args], { name: `dev ${args[0]}` });
  const exit = await proc.waitForExit(30_000);
  return { code: exit.code, stdout: proc.stdoutLines, stderr: proc.stderrLines, report: proc.report() };
}

describe("dev CLI against a standalone server", () => {
  it("seed-accounts --count 5 prints 5 distinct ids of new accounts; scenario-1 prints the seed's balances", async () => {
    const address = await startStandalone();
    const client = LedgerClient.connect(address, secrets.client());
    try {
      const seeded = await runDev(["seed-accounts", "--count", "5", "--gateway", address]);
      expect(seeded.code, seeded.report).toBe(0);
      expect(seeded.stdout).toHaveLength(5);
      expect(new Set(seeded.stdout).size).toBe(5);
      for (const id of seeded.stdout) {
        expect(id).toMatch(/^[0-9a-f]{16}$/);
        const account = await client.getAccount(id);
        expect([account.availableBalance, account.settledBalance]).toEqual([0n, 0n]);
      }
      expect(seeded.stderr.at(-1)).toMatch(new RegExp(`^seed-accounts: created 5 accounts at ${address} in `));

      const accountId = seeded.stdout[0]!;
      const scenario = await runDev(["scenario-1", "--account-id", accountId, "--gateway", address]);
      expect(scenario.code, scenario.report).toBe(0);
      const balances = scenario.stdout.flatMap((line) => {
        const m = /^\s*balance: available=(-?\d+) settled=(-?\d+)$/.exec(line);
        return m ? [[Number(m[1]), Number(m[2])]] : [];
      });
      expect(balances).toEqual([
        [0, 0],
        [90, 100],
        [90, 90],
      ]);
      expect(scenario.stdout.at(-1)).toMatch(
        new RegExp(`^\\s*transaction ${accountId}[0-9a-f]{16}: amount=-1000 status=INSUFFICIENT_FUNDS$`),
      );

      // What the CLI printed is what the ledger holds.
      const after = await client.getAccount(accountId);
      expect([after.availableBalance, after.settledBalance]).toEqual([90n, 90n]);
      const history: [bigint, TransactionStatus][] = [];
      for await (const t of client.transactions(accountId)) history.push([t.amount, t.status]);
      expect(history).toEqual([
        [100n, TransactionStatus.SETTLED],
        [-10n, TransactionStatus.SETTLED],
        [-1000n, TransactionStatus.INSUFFICIENT_FUNDS],
      ]);
    } finally {
      client.close();
    }
  });

  it("an API error (unknown account) exits 1 with one line carrying the code", async () => {
    const address = await startStandalone();
    const { code, stderr, stdout } = await runDev([
      "scenario-1",
      "--account-id",
      "0123456789abcdef",
      "--gateway",
      address,
    ]);
    expect(code).toBe(1);
    expect(stdout).toEqual(["step 1: get account 0123456789abcdef"]);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^error: NOT_FOUND: .*0123456789abcdef/);
  });
});
