// The security flags the server commands share, and turning them into a TransportSecurity and
// an API key store. Secure by default: without flags a process reads its certificate, key and
// the cluster CA from ./data/secrets (made by `npm start`, or `dev secrets init`); running
// without TLS and keys takes an explicit --insecure, which is logged loudly.

import { Option, type Command } from "commander";
import type { Logger } from "../../src/base/logger.js";
import { ApiKeyStore } from "../../src/security/key-store.js";
import type { CertRole } from "../../src/security/identity.js";
import { defaultSecretsDir, principalPaths } from "../../src/security/tls-files.js";
import { TlsWatcher } from "../../src/security/tls-watcher.js";
import {
  insecureTransport,
  tlsTransport,
  warnIfInsecure,
  type TransportSecurity,
} from "../../src/security/transport-security.js";
import { failStartup, parseNonEmpty } from "./server-cli.js";
import { join } from "node:path";

export interface SecurityFlags {
  insecure: boolean;
  secretsDir: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  apiKeys?: string;
}

const tlsFlagNames = ["tlsCert", "tlsKey", "tlsCa", "apiKeys"] as const;

/** Adds --insecure, --secrets-dir and the per-file overrides; `principal` names the default
 * file names (<secrets-dir>/<principal>.crt and .key), `withApiKeys` adds --api-keys. */
export function addSecurityFlags(program: Command, principal: string, withApiKeys: boolean): Command {
  program
    .option(
      "--secrets-dir <dir>",
      "directory of the TLS files (ca.crt, <name>.crt, <name>.key) and the API keys file (made by `npm start` or `dev secrets init`)",
      parseNonEmpty,
      defaultSecretsDir,
    )
    .option("--tls-cert <file>", `this process's certificate (default: <secrets-dir>/${principal}.crt)`, parseNonEmpty)
    .option("--tls-key <file>", `its private key (default: <secrets-dir>/${principal}.key)`, parseNonEmpty)
    .option("--tls-ca <file>", "the cluster CA certificate(s) to trust (default: <secrets-dir>/ca.crt)", parseNonEmpty);
  if (withApiKeys)
    program.option("--api-keys <file>", "the API keys file (default: <secrets-dir>/api-keys.json)", parseNonEmpty);
  program.addOption(
    new Option("--insecure", "run WITHOUT TLS and API keys: only on a trusted, isolated network").default(false),
  );
  return program;
}

/** Refuses --insecure together with any TLS or key flag: a bad flag, exit 2. */
export function exitOnConflictingSecurityFlags(flags: SecurityFlags): void {
  if (!flags.insecure) return;
  const given = tlsFlagNames.filter((name) => flags[name] !== undefined);
  if (given.length === 0) return;
  process.stderr.write(
    `error: --insecure cannot be combined with ${given.map((n) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")}\n`,
  );
  process.exit(2);
}

/** The process's transport security, or a one-line start-up failure (exit 1). */
export async function openTransportSecurity(
  processName: string,
  flags: SecurityFlags,
  principal: { role: CertRole; name?: string; fileName: string },
  logger: Logger,
): Promise<TransportSecurity> {
  if (flags.insecure) {
    const security = insecureTransport();
    warnIfInsecure(security, logger);
    return security;
  }
  const defaults = principalPaths(flags.secretsDir, principal.fileName);
  const paths = {
    ca: flags.tlsCa ?? defaults.ca,
    cert: flags.tlsCert ?? defaults.cert,
    key: flags.tlsKey ?? defaults.key,
  };
  try {
    const watcher = await TlsWatcher.open(
      paths,
      { role: principal.role, ...(principal.name === undefined ? {} : { name: principal.name }) },
      logger,
    );
    logger.info(
      {
        identity: `${watcher.current.identity.role} ${watcher.current.identity.name}`,
        cert: paths.cert,
        notAfter: watcher.current.notAfter.toISOString(),
      },
      "TLS on",
    );
    return tlsTransport(watcher);
  } catch (e) {
    failStartup(
      processName,
      "TLS",
      new Error(
        `${(e as Error).message} (npm start makes the development files; \`npx tsx cmd/dev.ts secrets init\` too; or pass --insecure)`,
      ),
    );
  }
}

/** The API keys the public port checks: none with --insecure. */
export async function openApiKeyStore(
  processName: string,
  flags: SecurityFlags,
  logger: Logger,
): Promise<ApiKeyStore | undefined> {
  if (flags.insecure) return undefined;
  const path = flags.apiKeys ?? join(flags.secretsDir, "api-keys.json");
  try {
    const store = await ApiKeyStore.open(path, logger);
    logger.info({ file: path, keys: store.activeKeys }, "API keys on");
    return store;
  } catch (e) {
    failStartup(
      processName,
      "API keys",
      new Error(
        `${(e as Error).message} (make one with \`npx tsx cmd/dev.ts keys create --role admin\`, or pass --insecure)`,
      ),
    );
  }
}
