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
import { join } from "node:path";
import { devCertValidDaysDefault, devCertValidDaysMax } from "../../src/security/limits.js";
import { loadClusterConfig } from "../../src/cluster/config.js";
import { issueCertificate } from "../../src/security/cert-issue.js";
import {
  devAdminKeyFile,
  initSecrets,
  localNames,
  readCa,
  splitHosts,
  writePrincipal,
} from "../../src/security/dev-secrets.js";
import { certRoles, isCertRole, principalNameProblem, type CertRole } from "../../src/security/identity.js";
import { principalPaths } from "../../src/security/tls-files.js";
import { integerArg } from "./arg-parsers.js";
import { CliFailure, writeLine, type DevIo } from "./io.js";
import { addSecretsDirOption } from "./security-options.js";

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
        const ca = await readCa(options.secretsDir).catch((e: unknown) => {
          throw new CliFailure((e as Error).message);
        });
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
