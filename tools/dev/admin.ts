// `dev admin transfer-leadership|snapshot`: the gateway's admin API (needs an API key of role
// admin; the dev admin key by default), for operators without grpcurl.

import { InvalidArgumentError, type Command } from "commander";
import { AdminClient } from "../../src/client/admin-client.js";
import { defaultLedgerAddress } from "../../src/client/ledger-client.js";
import { addressArg } from "./arg-parsers.js";
import { writeLine, type DevIo } from "./io.js";
import { addApiSecurityOptions, ledgerClientSecurity, type DevSecurityOptions } from "./security-options.js";

interface AdminOptions extends DevSecurityOptions {
  gateway: string;
}

function idArg(text: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text))
    throw new InvalidArgumentError("expected an id from the cluster config (1-64 letters, digits, '.', '_', '-')");
  return text;
}

async function withAdmin<T>(options: AdminOptions, fn: (admin: AdminClient) => Promise<T>): Promise<T> {
  const admin = AdminClient.connect(options.gateway, await ledgerClientSecurity(options));
  try {
    return await fn(admin);
  } finally {
    admin.close();
  }
}

export function registerAdmin(program: Command, io: DevIo): void {
  const admin = program.command("admin").description("the gateway's admin API (an API key of role admin)");
  const withGateway = (c: Command): Command =>
    addApiSecurityOptions(
      c.option("--gateway <host:port>", "address of the gateway", addressArg, defaultLedgerAddress),
    );

  withGateway(admin.command("transfer-leadership").description("hand a shard's leadership to its replica on a node"))
    .requiredOption("--shard <id>", "the shard, e.g. shard-03", idArg)
    .requiredOption("--to <node-id>", "the node whose replica should lead", idArg)
    .action(async (options: AdminOptions & { shard: string; to: string }) => {
      await withAdmin(options, (a) => a.transferLeadership(options.shard, options.to));
      writeLine(
        io.stderr,
        `admin: asked ${options.shard} to move its leadership to ${options.to} (it does within an election timeout, or stays; see dev status)`,
      );
    });

  withGateway(
    admin
      .command("snapshot")
      .description("snapshot a shard's replica on a node at its applied index and compact its log"),
  )
    .requiredOption("--shard <id>", "the shard, e.g. shard-03", idArg)
    .requiredOption("--node <node-id>", "the node whose replica to snapshot", idArg)
    .action(async (options: AdminOptions & { shard: string; node: string }) => {
      const index = await withAdmin(options, (a) => a.triggerSnapshot(options.shard, options.node));
      writeLine(io.stdout, String(index));
      writeLine(io.stderr, `admin: ${options.shard} on ${options.node} snapshotted at index ${index}`);
    });
}
