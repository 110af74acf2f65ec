// `dev keys create|revoke|list`: manage the API keys file the gateway (and the standalone
// server) reads. A new key is printed once, on stdout, and stored only as a salted scrypt hash;
// a revoked key stays in the file, marked, and gateways refuse it within a second.

import { InvalidArgumentError, type Command } from "commander";
import { join } from "node:path";
import { apiRoles, isApiRole, readKeysFile, type ApiRole } from "../../src/security/api-keys.js";
import { createKey, revokeKey, UnknownKeyError } from "../../src/security/key-admin.js";
import { CliFailure, writeLine, type DevIo } from "./io.js";
import { addSecretsDirOption } from "./security-options.js";

interface KeysOptions {
  secretsDir: string;
  keysFile?: string;
}

function keysFileOf(options: KeysOptions): string {
  return options.keysFile ?? join(options.secretsDir, "api-keys.json");
}

function roleArg(text: string): ApiRole {
  if (!isApiRole(text)) throw new InvalidArgumentError(`expected one of ${apiRoles.join(", ")}`);
  return text;
}

function labelArg(text: string): string {
  if (text.length === 0 || text.length > 100 || /[\p{Cc}]/u.test(text))
    throw new InvalidArgumentError("expected 1-100 characters without control characters");
  return text;
}

function keyIdArg(text: string): string {
  if (!/^[0-9a-f]{12}$/.test(text))
    throw new InvalidArgumentError("expected a key id: 12 lowercase hex characters (see `dev keys list`)");
  return text;
}

export function registerKeys(program: Command, io: DevIo): void {
  const keys = program.command("keys").description("manage API keys (roles: read, write, admin)");
  const withFile = (c: Command): Command =>
    addSecretsDirOption(c).option("--keys-file <file>", "the API keys file (default: <secrets-dir>/api-keys.json)");

  withFile(keys.command("create").description("make a key and print it once (store it: it cannot be shown again)"))
    .requiredOption("--role <role>", `what the key may do: ${apiRoles.join(", ")}`, roleArg)
    .option("--name <label>", "a label for people, e.g. the service that uses the key", labelArg, "unnamed")
    .action(async (options: KeysOptions & { role: ApiRole; name: string }) => {
      const path = keysFileOf(options);
      const { id, token } = await createKey(path, options.role, options.name);
      writeLine(io.stdout, token);
      writeLine(
        io.stderr,
        `keys: created key ${id} (role ${options.role}) in ${path}; it is printed above and nowhere else`,
      );
    });

  withFile(
    keys
      .command("revoke")
      .description("revoke a key: gateways refuse it within a second")
      .argument("<id>", "the key's id", keyIdArg),
  ).action(async (id: string, options: KeysOptions) => {
    const path = keysFileOf(options);
    const revoked = await revokeKey(path, id).catch((e: unknown) => {
      throw e instanceof UnknownKeyError ? new CliFailure(e.message) : e;
    });
    writeLine(
      io.stderr,
      revoked.already
        ? `keys: key ${id} was already revoked`
        : `keys: revoked key ${id} (role ${revoked.role}, ${revoked.name})`,
    );
  });

  withFile(
    keys.command("list").description("list the keys: id, role, state, created, name (never the keys themselves)"),
  ).action(async (options: KeysOptions) => {
    const file = await readKeysFile(keysFileOf(options));
    for (const k of file.keys) {
      writeLine(
        io.stdout,
        [
          k.id,
          k.role.padEnd(5),
          (k.revokedAt === undefined ? "active" : `revoked ${k.revokedAt}`).padEnd(32),
          k.createdAt,
          k.name,
        ].join("  "),
      );
    }
  });
}
