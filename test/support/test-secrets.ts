// Secrets for processes under test, made as `npm start` makes them (dev secrets init) in a temp
// dir: the CA, a certificate per node, the gateway's and the operator's, and an API keys file
// with an admin key. Tests run the real, secure configuration unless security is not their
// subject and a plain TCP fake sits on the other end.

import { readFile } from "node:fs/promises";
import { ChannelCredentials } from "@grpc/grpc-js";
import type { ChannelSecurity } from "../../src/transport/channel-security.js";
import { join } from "node:path";
import type { ConnectOptions } from "../../src/client/index.js";
import type { NodeConfig } from "../../src/cluster/config.js";
import { devAdminKeyFile, initSecrets } from "../../src/security/dev-secrets.js";
import { caCertPath } from "../../src/security/tls-files.js";
import { makeTempDir } from "./temp-dirs.js";

export interface TestSecrets {
  dir: string;
  ca: Buffer;
  adminKey: string;
  /** The flag that points a process at these secrets. */
  args: string[];
  /** LedgerClient options: TLS trusting the CA, with `apiKey` (the admin key by default). */
  client(apiKey?: string): Pick<ConnectOptions, "tls" | "apiKey">;
  /** A raw channel to the public port (gateway, standalone): TLS trusting the CA, no key. */
  publicChannel(): ChannelSecurity;
}

/** Secrets in `dir` (a new temp dir when absent) for the given nodes (none for a standalone server). */
export async function makeTestSecrets(nodes: readonly NodeConfig[] = [], dir?: string): Promise<TestSecrets> {
  const secretsDir = dir ?? (await makeTempDir("secrets-"));
  await initSecrets(secretsDir, { nodes: [...nodes] });
  const ca = await readFile(caCertPath(secretsDir));
  const adminKey = (await readFile(join(secretsDir, devAdminKeyFile), "utf8")).trim();
  return {
    dir: secretsDir,
    ca,
    adminKey,
    args: ["--secrets-dir", secretsDir],
    client: (apiKey) => ({ tls: { ca }, apiKey: apiKey ?? adminKey }),
    // The public certificate names localhost; the name avoids sending an IP address as SNI.
    publicChannel: () => ({
      credentials: ChannelCredentials.createSsl(ca),
      options: { "grpc.ssl_target_name_override": "localhost" },
    }),
  };
}
