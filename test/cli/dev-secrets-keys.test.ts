// The dev CLI's security commands, in process: `secrets init` makes what a secure cluster needs
// (once), `keys create|list|revoke` manage the API keys file, `certs issue` makes or rotates one
// principal's certificate.

import { describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatClusterConfig, generateClusterConfig } from "../../src/cluster/config.js";
import { devInProcess } from "./dev-in-process.js";
import { readKeysFile, tokenMatches } from "../../src/security/api-keys.js";
import { identityOfSubjectText } from "../../src/security/identity.js";
import { loadTlsMaterial, principalPaths } from "../../src/security/tls-files.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";

autoCleanup();

const dev = devInProcess;

async function configFile(dir: string): Promise<string> {
  const path = join(dir, "cluster_config.json");
  await writeFile(
    path,
    formatClusterConfig(generateClusterConfig({ nodes: 3, shards: 2, replicationFactor: 3, basePort: 7000 })),
  );
  return path;
}

describe("dev secrets init", () => {
  it("makes the CA, a certificate per node, the gateway's and the operator's, and a keys file with an admin key, then nothing more", async () => {
    const dir = await makeTempDir("secrets-init-");
    const secrets = join(dir, "secrets");
    const config = await configFile(dir);
    const first = await dev(["secrets", "init", "--secrets-dir", secrets, "--cluster-config", config]);
    expect(first.code, first.stderr.join("\n")).toBe(0);
    expect((await readdir(secrets)).sort()).toEqual(
      [
        "admin.api-key",
        "admin.crt",
        "admin.key",
        "api-keys.json",
        "ca.crt",
        "ca.key",
        "gateway.crt",
        "gateway.key",
        "node01.crt",
        "node01.key",
        "node02.crt",
        "node02.key",
        "node03.crt",
        "node03.key",
      ].sort(),
    );
    for (const name of ["node01", "node02", "node03"])
      expect((await loadTlsMaterial(principalPaths(secrets, name), { role: "node", name })).identity.name).toBe(name);
    expect((await loadTlsMaterial(principalPaths(secrets, "gateway"), { role: "gateway" })).identity.name).toBe(
      "gateway",
    );
    expect((await loadTlsMaterial(principalPaths(secrets, "admin"), { role: "admin" })).identity.name).toBe("admin");
    // Private keys and the plaintext admin key are readable by their owner only.
    for (const f of ["ca.key", "node01.key", "gateway.key", "admin.key", "admin.api-key", "api-keys.json"])
      expect((await stat(join(secrets, f))).mode & 0o077, f).toBe(0);
    const key = (await readFile(join(secrets, "admin.api-key"), "utf8")).trim();
    const [record] = (await readKeysFile(join(secrets, "api-keys.json"))).keys;
    expect(record?.role).toBe("admin");
    expect(await tokenMatches(record!, key)).toBe(true);
    const before = await readFile(join(secrets, "node01.crt"), "utf8");
    const second = await dev(["secrets", "init", "--secrets-dir", secrets, "--cluster-config", config]);
    expect(second).toMatchObject({ code: 0, stderr: [`secrets: ${secrets} has everything ${config} needs`] });
    expect(await readFile(join(secrets, "node01.crt"), "utf8")).toBe(before);
  });

  it("exits 1 naming the file when the cluster config cannot be read", async () => {
    const missing = join(await makeTempDir(), "missing.json");
    const r = await dev([
      "secrets",
      "init",
      "--secrets-dir",
      join(await makeTempDir(), "s"),
      "--cluster-config",
      missing,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toContain(missing);
  });
});

describe("dev keys", () => {
  it("creates a key printed once on stdout and stored only as a hash, lists it, and revokes it", async () => {
    const secrets = await makeTempDir("keys-cli-");
    const created = await dev([
      "keys",
      "create",
      "--role",
      "write",
      "--name",
      "billing service",
      "--secrets-dir",
      secrets,
    ]);
    expect(created.code, created.stderr.join("\n")).toBe(0);
    expect(created.stdout).toHaveLength(1);
    const token = created.stdout[0]!;
    expect(token).toMatch(/^lk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const id = token.slice(3, 15);
    expect(await readFile(join(secrets, "api-keys.json"), "utf8")).not.toContain(token.slice(16));
    const listed = await dev(["keys", "list", "--secrets-dir", secrets]);
    expect(listed.stdout).toEqual([
      expect.stringMatching(new RegExp(`^${id}  write  active\\s+\\S+  billing service$`)),
    ]);
    expect((await dev(["keys", "revoke", id, "--secrets-dir", secrets])).stderr).toEqual([
      `keys: revoked key ${id} (role write, billing service)`,
    ]);
    expect((await dev(["keys", "list", "--secrets-dir", secrets])).stdout[0]).toMatch(
      new RegExp(`^${id}  write  revoked \\d{4}-`),
    );
    expect((await dev(["keys", "revoke", id, "--secrets-dir", secrets])).stderr).toEqual([
      `keys: key ${id} was already revoked`,
    ]);
  });

  it("exits 1 for an unknown key id and 2 for a bad role or id", async () => {
    const secrets = await makeTempDir("keys-cli-");
    await dev(["keys", "create", "--role", "read", "--secrets-dir", secrets]);
    const unknown = await dev(["keys", "revoke", "0123456789ab", "--secrets-dir", secrets]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr[0]).toMatch(/^error: no key 0123456789ab in /);
    expect((await dev(["keys", "create", "--role", "root", "--secrets-dir", secrets])).code).toBe(2);
    expect((await dev(["keys", "revoke", "XYZ", "--secrets-dir", secrets])).code).toBe(2);
  });
});

describe("dev certs issue", () => {
  it("makes a new node's certificate signed by the CA, with no host names, and replaces it on a second run", async () => {
    const dir = await makeTempDir("certs-cli-");
    const secrets = join(dir, "secrets");
    await dev(["secrets", "init", "--secrets-dir", secrets, "--cluster-config", await configFile(dir)]);
    const r = await dev([
      "certs",
      "issue",
      "--role",
      "node",
      "--name",
      "node04",
      "--days",
      "30",
      "--secrets-dir",
      secrets,
    ]);
    expect(r.code, r.stderr.join("\n")).toBe(0);
    const m = await loadTlsMaterial(principalPaths(secrets, "node04"), { role: "node", name: "node04" });
    const cert = new X509Certificate(m.certPem);
    expect(identityOfSubjectText(cert.subject)).toEqual({ role: "node", name: "node04" });
    expect(cert.subjectAltName).toBeUndefined();
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeLessThan(31 * 86_400_000);
    await dev(["certs", "issue", "--role", "node", "--name", "node04", "--secrets-dir", secrets]);
    expect(
      (await loadTlsMaterial(principalPaths(secrets, "node04"), { role: "node", name: "node04" })).serial,
    ).not.toBe(m.serial);
    // secrets init gave the nodes no host names either: only the gateway is dialled by name.
    expect(new X509Certificate(await readFile(join(secrets, "node01.crt"))).subjectAltName).toBeUndefined();
  });

  it("gives a gateway the host names asked for, and refuses host names for any other role (exit 2)", async () => {
    const dir = await makeTempDir("certs-cli-");
    const secrets = join(dir, "secrets");
    await dev(["secrets", "init", "--secrets-dir", secrets, "--cluster-config", await configFile(dir)]);
    const r = await dev([
      "certs",
      "issue",
      "--role",
      "gateway",
      "--name",
      "gw-eu",
      "--host",
      "10.0.0.4,ledger.example.com",
      "--secrets-dir",
      secrets,
    ]);
    expect(r.code, r.stderr.join("\n")).toBe(0);
    const cert = new X509Certificate(
      (await loadTlsMaterial(principalPaths(secrets, "gw-eu"), { role: "gateway", name: "gw-eu" })).certPem,
    );
    expect(cert.subjectAltName).toContain("DNS:ledger.example.com");
    expect(cert.subjectAltName).toContain("IP Address:10.0.0.4");
    const refused = await dev([
      "certs",
      "issue",
      "--role",
      "node",
      "--name",
      "node05",
      "--host",
      "localhost",
      "--secrets-dir",
      secrets,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr[0]).toMatch(/^error: --host applies to --role gateway only/);
  });

  it("exits 2 for a bad name or role and 1 when there is no CA to sign with", async () => {
    expect((await dev(["certs", "issue", "--role", "node", "--name", "../etc", "--secrets-dir", "x"])).code).toBe(2);
    expect((await dev(["certs", "issue", "--role", "king", "--name", "n", "--secrets-dir", "x"])).code).toBe(2);
    const r = await dev(["certs", "issue", "--role", "node", "--name", "node09", "--secrets-dir", await makeTempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr[0]).toMatch(/^error: cannot read the CA to sign with/);
  });
});
