// How the dev CLI reaches a secured cluster without flags: the CA to trust, the operator's
// certificate for the nodes' admin API and the admin API key for the gateway are read from the
// secrets directory `npm start` made (./data/secrets). --insecure talks to a cluster started
// with --insecure.

import { Option, type Command } from "commander";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LedgerClient, type ConnectOptions } from "../../src/client/ledger-client.js";
import { createLogger } from "../../src/base/logger.js";
import { defaultSecretsDir, principalPaths, caCertPath, readBoundedFile } from "../../src/security/tls-files.js";
import { TlsWatcher } from "../../src/security/tls-watcher.js";
import { insecureTransport, tlsTransport, type TransportSecurity } from "../../src/security/transport-security.js";
import { CliFailure } from "./io.js";
import { devAdminKeyFile, devAdminPrincipal } from "../../src/security/dev-secrets.js";

export const apiKeyEnv = "LEDGER_API_KEY";

export interface DevSecurityOptions {
  secretsDir: string;
  insecure: boolean;
  apiKey?: string;
}

export function addSecretsDirOption(command: Command): Command {
  return command.option(
    "--secrets-dir <dir>",
    "where the cluster's TLS files and keys are (made by `npm start` / `dev secrets init`)",
    defaultSecretsDir,
  );
}

function addInsecureOption(command: Command, what: string): Command {
  return command.addOption(
    new Option("--insecure", `talk to ${what} started with --insecure (no TLS, no key)`).default(false),
  );
}

/** For commands that call the public API: the CA to trust and the API key. */
export function addApiSecurityOptions(command: Command): Command {
  addSecretsDirOption(command);
  command.option(
    "--api-key <key>",
    `the API key to send (default: $${apiKeyEnv}, else <secrets-dir>/${devAdminKeyFile})`,
  );
  return addInsecureOption(command, "a gateway");
}

/** For commands that call the nodes' admin API: the operator's certificate. */
export function addNodeSecurityOptions(command: Command): Command {
  addSecretsDirOption(command);
  return addInsecureOption(command, "nodes");
}

async function apiKeyOf(options: DevSecurityOptions): Promise<string> {
  if (options.apiKey !== undefined) return options.apiKey;
  const fromEnv = process.env[apiKeyEnv];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const path = join(options.secretsDir, devAdminKeyFile);
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    throw new CliFailure(
      `no API key: pass --api-key, set $${apiKeyEnv}, or run \`npm start\` (or \`dev secrets init\`) to make ${path}`,
    );
  }
}

/** LedgerClient options for a gateway secured as the options say: the CA and the API key. */
export async function ledgerClientSecurity(
  options: DevSecurityOptions,
): Promise<Pick<ConnectOptions, "tls" | "apiKey">> {
  if (options.insecure) return { tls: "insecure" };
  const caPath = caCertPath(options.secretsDir);
  let ca: Buffer;
  try {
    ca = await readBoundedFile(caPath, "CA certificate");
  } catch (e) {
    throw new CliFailure(
      `${(e as Error).message}: run \`npm start\` (or \`dev secrets init\`), pass --secrets-dir, or --insecure for an insecure gateway`,
    );
  }
  return { tls: { ca }, apiKey: await apiKeyOf(options) };
}

/** A client of the public API at `gateway`, secured as the options say. */
export async function connectLedger(gateway: string, options: DevSecurityOptions): Promise<LedgerClient> {
  return LedgerClient.connect(gateway, await ledgerClientSecurity(options));
}

/** The transport security of an operator's calls to the nodes (the admin certificate). */
export async function operatorTransport(options: DevSecurityOptions): Promise<TransportSecurity> {
  if (options.insecure) return insecureTransport();
  try {
    const watcher = await TlsWatcher.open(
      principalPaths(options.secretsDir, devAdminPrincipal),
      { role: "admin" },
      createLogger({ name: "dev", level: "silent" }),
    );
    return tlsTransport(watcher);
  } catch (e) {
    throw new CliFailure(
      `${(e as Error).message}: run \`npm start\` (or \`dev secrets init\`), pass --secrets-dir, or --insecure for an insecure cluster`,
    );
  }
}
