// `dev secrets init` and `dev certs issue`: the files a secure cluster runs with.
//
// init makes what is missing in the secrets directory and nothing else: the development CA,
// a certificate for every node of the cluster config, one for the gateway, one for the
// operator's tools (admin), and an API keys file with one admin key (its plaintext in
// admin.api-key, for the dev CLI). `npm start` runs it before starting the processes, so the
// first start is secure without any step of the user's. Running it again changes nothing.
//
// issue makes (or replaces: rotation) one principal's certificate and key, signed by the CA in
// the directory. The new files are written to temporary names and renamed into place, key
// first: a process watching them sees a consistent pair within a second (TlsWatcher).

import { InvalidArgumentError, type Command } from "commander";
import { isIP } from "node:net";
import { access, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { devCaValidDays, devCertValidDaysDefault, devCertValidDaysMax } from "../base/limits.js";
import { loadClusterConfig, type ClusterConfig } from "../cluster/config.js";
import { newApiKey, writeFileAtomically, writeKeysFile } from "../security/api-keys.js";
import { createCa, issueCertificate, type PemPair } from "../security/cert-issue.js";
import { certRoles, isCertRole, principalNameProblem, type CertRole, type PeerIdentity } from "../security/identity.js";
import { caCertPath, caKeyPath, principalPaths } from "../security/tls-files.js";
import { integerArg } from "./arg-parsers.js";
import { CliFailure, writeLine, type DevIo } from "./io.js";
import { addSecretsDirOption, devAdminKeyFile, devAdminPrincipal } from "./security-options.js";

/** Names every local client may dial the gateway by. */
const localNames = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] };
const noHosts = { dnsNames: [], ipAddresses: [] };

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readCa(dir: string): Promise<PemPair> {
  try {
    return { certPem: await readFile(caCertPath(dir), "utf8"), keyPem: await readFile(caKeyPath(dir), "utf8") };
  } catch (e) {
    throw new CliFailure(
      `cannot read the CA to sign with (${caCertPath(dir)}, ${caKeyPath(dir)}): ${(e as Error).message}`,
    );
  }
}

/** Writes a principal's key, then its certificate, each atomically (owner-only for the key). */
export async function writePrincipal(dir: string, name: string, pair: PemPair): Promise<void> {
  const paths = principalPaths(dir, name);
  await writeFileAtomically(paths.key, pair.keyPem, 0o600);
  await writeFileAtomically(paths.cert, pair.certPem, 0o644);
}

/** Host names and addresses for a principal's certificate, split by kind. */
function splitHosts(hosts: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
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

function roleArg(text: string): CertRole {
  if (!isCertRole(text)) throw new InvalidArgumentError(`expected one of ${certRoles.join(", ")}`);
  return text;
}

function nameArg(text: string): string {
  const problem = principalNameProblem(text);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return text;
}

function hostsArg(text: string, previous: string[] = []): string[] {
  const hosts = text.split(",").map((h) => h.trim());
  for (const h of hosts)
    if (!/^[A-Za-z0-9.:-]{1,253}$/.test(h))
      throw new InvalidArgumentError(`not a host name or IP address: ${JSON.stringify(h.slice(0, 64))}`);
  return [...previous, ...hosts];
}

export function registerSecrets(program: Command, io: DevIo): void {
  const secrets = program
    .command("secrets")
    .description("the development CA, certificates and admin key a secure cluster runs with");
  addSecretsDirOption(
    secrets
      .command("init")
      .description(
        "make whatever is missing: CA, a certificate per node of the config, gateway, admin, API keys file with an admin key",
      ),
  )
    .option("--cluster-config <file>", "the cluster config naming the nodes", "cluster_config.json")
    .action(async (options: { secretsDir: string; clusterConfig: string }) => {
      const config = await loadClusterConfig(options.clusterConfig);
      const { made } = await initSecrets(options.secretsDir, config);
      if (made.length === 0)
        writeLine(io.stderr, `secrets: ${options.secretsDir} has everything ${options.clusterConfig} needs`);
      else
        writeLine(
          io.stderr,
          `secrets: made ${made.join(", ")} in ${options.secretsDir} (the admin API key is in ${join(options.secretsDir, devAdminKeyFile)})`,
        );
    });

  const certs = program.command("certs").description("certificates signed by the cluster CA");
  addSecretsDirOption(
    certs
      .command("issue")
      .description(
        "make (or replace, to rotate) the certificate and key of one principal, signed by <secrets-dir>/ca.key",
      ),
  )
    .requiredOption("--role <role>", `node (a cluster node), gateway, or admin (an operator's tools)`, roleArg)
    .requiredOption(
      "--name <name>",
      "the principal: a node's id from the cluster config, a gateway's name, an operator's name",
      nameArg,
    )
    .option(
      "--host <names>",
      "gateway only: host names or IP addresses clients dial it by (comma-separated, repeatable; default localhost, 127.0.0.1, ::1)",
      hostsArg,
    )
    .option(
      "--days <n>",
      `validity in days (1..${devCertValidDaysMax})`,
      integerArg(1, devCertValidDaysMax),
      devCertValidDaysDefault,
    )
    .option("--out-name <file-name>", "file name (without .crt/.key) to write, default the --name", nameArg)
    .action(
      async (
        options: { secretsDir: string; role: CertRole; name: string; host?: string[]; days: number; outName?: string },
        command: Command,
      ) => {
        if (options.host !== undefined && options.role !== "gateway") {
          command.error(
            "error: --host applies to --role gateway only (nodes are checked by the name in their certificate; host names would let a node pose as the gateway)",
            { exitCode: 2, code: "dev.certs.hostWithoutGateway" },
          );
        }
        const ca = await readCa(options.secretsDir);
        const hosts = splitHosts(
          options.host ?? (options.role === "gateway" ? [...localNames.dnsNames, ...localNames.ipAddresses] : []),
        );
        const pair = await issueCertificate(ca, {
          identity: { role: options.role, name: options.name },
          validDays: options.days,
          ...hosts,
        });
        const fileName = options.outName ?? options.name;
        await writePrincipal(options.secretsDir, fileName, pair);
        const paths = principalPaths(options.secretsDir, fileName);
        writeLine(
          io.stderr,
          `certs: wrote ${paths.cert} and ${paths.key} (${options.role} ${options.name}, ${options.days} days); a running process picks them up within a second`,
        );
      },
    );
}
