// The dev CLI: a commander program with one module per command, and the one place that turns
// outcomes into exit codes: 0 success, 1 a failure while running (unreachable server, API
// error, file error), 2 a usage error (commander has already printed the problem and the usage).

import { Command, CommanderError } from "commander";
import { isLedgerError } from "../../src/base/errors.js";
import { CliFailure, processIo, writeLine, type DevIo } from "./io.js";
import { registerSeedAccounts } from "./seed-accounts.js";
import { registerScenario1 } from "./scenario-1.js";
import { registerGenClusterConfig } from "./gen-cluster-config.js";
import { registerStatus } from "./status.js";
import { registerKeys } from "./keys.js";
import { registerSecrets } from "./secrets.js";
import { registerAdmin } from "./admin.js";
import { registerRebalance } from "./rebalance.js";

export const exitOk = 0;
export const exitFailure = 1;
export const exitUsage = 2;

export function buildDevProgram(io: DevIo): Command {
  const program = new Command("dev")
    .description(
      "developer tools for the ledger: seed accounts, run scenarios, generate cluster configs, show cluster status, manage certificates and API keys",
    )
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError()
    .exitOverride();
  registerSeedAccounts(program, io);
  registerScenario1(program, io);
  registerGenClusterConfig(program, io);
  registerStatus(program, io);
  registerSecrets(program, io);
  registerKeys(program, io);
  registerAdmin(program, io);
  registerRebalance(program, io);
  return program;
}

/** One line for an error the user can act on; a stack only for what must be a bug. */
function reportFailure(error: unknown, io: DevIo): void {
  if (isLedgerError(error)) return writeLine(io.stderr, `error: ${error.code}: ${error.message}`);
  if (error instanceof CliFailure) return writeLine(io.stderr, `error: ${error.message}`);
  // A system error (EPIPE, EACCES, ...) is the environment's problem, not a bug: no stack.
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof Error && typeof code === "string") return writeLine(io.stderr, `error: ${error.message}`);
  writeLine(io.stderr, `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}

/** Runs the CLI on `argv` (process.argv form: node, script, args...) and returns the exit code. */
export async function runDev(argv: readonly string[], io: DevIo = processIo): Promise<number> {
  try {
    await buildDevProgram(io).parseAsync([...argv]);
    return exitOk;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? exitOk : exitUsage;
    reportFailure(e, io);
    return exitFailure;
  }
}
