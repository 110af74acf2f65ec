// The secrets a secure cluster runs with, as `dev secrets init` (and `npm start`) make them in a
// directory: the CA, a certificate per node of the cluster config, one for the gateway, one for
// the operator's tools (admin), and an API keys file with one admin key (its plaintext in
// admin.api-key). Only what is missing is made; a new CA means every certificate is made again.

import { isIP } from "node:net";
import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { devCaValidDays, devCertValidDaysDefault } from "./limits.js";
import type { ClusterConfig } from "../cluster/config.js";
import { newApiKey, writeFileAtomically, writeKeysFile } from "./api-keys.js";
import { createCa, issueCertificate, type PemPair } from "./cert-issue.js";
import type { PeerIdentity } from "./identity.js";
import { caCertPath, caKeyPath, principalPaths } from "./tls-files.js";

/** The file the development admin key's plaintext goes to (owner-readable only), for the dev CLI. */
export const devAdminKeyFile = "admin.api-key";
/** The operator certificate's principal name (role admin). */
export const devAdminPrincipal = "admin";

/** Names every local client may dial the gateway by. */
export const localNames = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] };
export const noHosts = { dnsNames: [], ipAddresses: [] };

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function readCa(dir: string): Promise<PemPair> {
  try {
    return { certPem: await readFile(caCertPath(dir), "utf8"), keyPem: await readFile(caKeyPath(dir), "utf8") };
  } catch (e) {
    throw new Error(`cannot read the CA to sign with (${caCertPath(dir)}, ${caKeyPath(dir)}): ${(e as Error).message}`);
  }
}

/** Writes a principal's key, then its certificate, each atomically (owner-only for the key). */
export async function writePrincipal(dir: string, name: string, pair: PemPair): Promise<void> {
  const paths = principalPaths(dir, name);
  await writeFileAtomically(paths.key, pair.keyPem, 0o600);
  await writeFileAtomically(paths.cert, pair.certPem, 0o644);
}

/** Host names and addresses for a principal's certificate, split by kind. */
export function splitHosts(hosts: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = [...new Set(hosts.filter((h) => isIP(h) === 0))];
  const ipAddresses = [...new Set(hosts.filter((h) => isIP(h) !== 0))];
  return { dnsNames, ipAddresses };
}

export interface InitResult {
  made: string[];
}

/** Makes whatever of the development secrets is missing in `dir` for `config`. */
export async function initSecrets(
  dir: string,
  config: Pick<ClusterConfig, "nodes">,
  validDays = devCertValidDaysDefault,
): Promise<InitResult> {
  const made: string[] = [];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const freshCa = !(await exists(caCertPath(dir)));
  if (freshCa) {
    const ca = await createCa({ commonName: "ledger-cluster development CA", validDays: devCaValidDays });
    await writeFileAtomically(caKeyPath(dir), ca.keyPem, 0o600);
    await writeFileAtomically(caCertPath(dir), ca.certPem, 0o644);
    made.push("ca.crt");
  }
  let ca: PemPair | undefined;
  const issue = async (
    identity: PeerIdentity,
    fileName: string,
    hosts: { dnsNames: string[]; ipAddresses: string[] },
  ): Promise<void> => {
    // A new CA invalidates every certificate an older one signed: issue them all again.
    if (!freshCa && (await exists(principalPaths(dir, fileName).cert))) return;
    ca ??= await readCa(dir);
    await writePrincipal(dir, fileName, await issueCertificate(ca, { identity, validDays, ...hosts }));
    made.push(`${fileName}.crt`);
  };
  // Nodes carry no host names: peers check a node by the name in its certificate, and a node
  // certificate that matched a client-facing host name could pose as the gateway.
  for (const node of config.nodes) await issue({ role: "node", name: node.id }, node.id, noHosts);
  await issue({ role: "gateway", name: "gateway" }, "gateway", localNames);
  await issue({ role: "admin", name: devAdminPrincipal }, devAdminPrincipal, noHosts);
  const keysPath = join(dir, "api-keys.json");
  if (!(await exists(keysPath))) {
    const { token, record } = await newApiKey("admin", "development admin key (dev secrets init)");
    await writeFileAtomically(join(dir, devAdminKeyFile), `${token}\n`, 0o600);
    await writeKeysFile(keysPath, { version: 1, keys: [record] });
    made.push("api-keys.json", devAdminKeyFile);
  }
  return { made };
}
