// Secure by default, at start-up: a process without usable TLS files or keys refuses to start
// with one line naming the file and how to make it; --insecure is explicit, exclusive and loud.

import { describe, expect, it } from "vitest";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatClusterConfig, generateClusterConfig } from "../../src/cluster/config.js";
import { issueCertificate } from "../../src/security/cert-issue.js";
import { caCertPath, caKeyPath } from "../../src/security/tls-files.js";
import { findFreePort } from "../support/free-port.js";
import { startTsProcess } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { makeTestSecrets } from "../support/test-secrets.js";
import { autoCleanup } from "../support/cleanup.js";
import { writePair } from "./support.js";

autoCleanup();

async function oneNode(): Promise<{ dir: string; config: string; nodes: { id: string; address: string }[] }> {
  const dir = await makeTempDir("startup-");
  const generated = generateClusterConfig({ nodes: 1, shards: 1, replicationFactor: 1, basePort: 7000 });
  const nodes = [{ id: "node01", address: `127.0.0.1:${await findFreePort()}` }];
  const config = join(dir, "cluster_config.json");
  await writeFile(config, formatClusterConfig({ ...generated, nodes }));
  return { dir, config, nodes };
}

const errorLines = (p: { stderrLines: string[] }) => p.stderrLines.filter((l) => l !== "");

describe("secure by default at start-up", () => {
  it("a node without TLS files exits 1 naming the missing file and how to make it", async () => {
    const { dir, config } = await oneNode();
    const secrets = join(dir, "nothing-here");
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      config,
      "--data-dir",
      join(dir, "data"),
      "--secrets-dir",
      secrets,
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(errorLines(proc)).toEqual([
      `node: TLS: CA certificate ${join(secrets, "ca.crt")}: no such file (npm start makes the development files; \`npx tsx cmd/dev.ts secrets init\` too; or pass --insecure)`,
    ]);
  });

  it("a node with an expired certificate, or another node's, exits 1 saying so", async () => {
    const { dir, config, nodes } = await oneNode();
    const secrets = await makeTestSecrets(nodes, join(dir, "secrets"));
    const ca = {
      certPem: await readFile(caCertPath(secrets.dir), "utf8"),
      keyPem: await readFile(caKeyPath(secrets.dir), "utf8"),
    };
    await writePair(
      secrets.dir,
      "node01",
      await issueCertificate(ca, {
        identity: { role: "node", name: "node01" },
        validDays: 1,
        notBefore: new Date(Date.now() - 5 * 86_400_000),
      }),
    );
    const expired = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      config,
      "--data-dir",
      join(dir, "data"),
      ...secrets.args,
    ]);
    expect(await expired.waitForExit()).toEqual({ code: 1, signal: null });
    expect(errorLines(expired)).toEqual([
      expect.stringMatching(/^node: TLS: certificate \S+node01\.crt expired on \d{4}-/),
    ]);
    await writePair(
      secrets.dir,
      "node07",
      await issueCertificate(ca, { identity: { role: "node", name: "node07" }, validDays: 1 }),
    );
    const impostor = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      config,
      "--data-dir",
      join(dir, "data"),
      "--tls-cert",
      join(secrets.dir, "node07.crt"),
      "--tls-key",
      join(secrets.dir, "node07.key"),
      ...secrets.args,
    ]);
    expect(await impostor.waitForExit()).toEqual({ code: 1, signal: null });
    expect(errorLines(impostor)[0]).toContain("names node node07, expected node node01");
  });

  it("a gateway without an API keys file exits 1 naming it", async () => {
    const { dir, config, nodes } = await oneNode();
    const secrets = await makeTestSecrets(nodes, join(dir, "secrets"));
    await rm(join(secrets.dir, "api-keys.json"));
    const proc = startTsProcess("cmd/gateway.ts", ["--port", "0", "--cluster-config", config, ...secrets.args]);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(errorLines(proc)).toEqual([
      expect.stringMatching(/^gateway: API keys: keys file \S+api-keys\.json: no such file \(make one with/),
    ]);
  });

  it("--insecure with a TLS flag is a usage error (exit 2)", async () => {
    const { dir, config } = await oneNode();
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      config,
      "--data-dir",
      join(dir, "data"),
      "--insecure",
      "--tls-cert",
      "x.crt",
    ]);
    expect(await proc.waitForExit()).toEqual({ code: 2, signal: null });
    expect(errorLines(proc)).toEqual(["error: --insecure cannot be combined with --tls-cert"]);
  });

  it("--insecure starts, warning loudly in the log that it runs without TLS and keys", async () => {
    const { dir, config } = await oneNode();
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      config,
      "--data-dir",
      join(dir, "data"),
      "--insecure",
    ]);
    const warning = await proc.waitForJson((e) => e.insecure === true);
    expect(warning).toMatchObject({ level: "warn", msg: expect.stringContaining("WITHOUT TLS and authentication") });
    expect(await proc.waitForJson((e) => e.msg === "listening")).toMatchObject({ security: "insecure" });
    expect(await proc.stop()).toEqual({ code: 0, signal: null });
  });
});
