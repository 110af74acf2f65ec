// Loading a process's TLS files: everything a handshake would discover late is refused at load,
// with the file and the problem named; and rotation of the files while a process runs.

import { afterEach, describe, expect, it } from "vitest";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../../src/base/logger.js";
import { tlsFileBytesMax } from "../../src/security/limits.js";
import { createCa, issueCertificate, type PemPair } from "../../src/security/cert-issue.js";
import { loadTlsMaterial, principalPaths, type TlsFilePaths } from "../../src/security/tls-files.js";
import { TlsWatcher } from "../../src/security/tls-watcher.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { autoCleanup } from "../support/cleanup.js";

autoCleanup();

async function setUp(): Promise<{ dir: string; ca: PemPair; paths: TlsFilePaths }> {
  const dir = await makeTempDir("tls-files-");
  const ca = await createCa({ commonName: "test CA", validDays: 10 });
  await writeFile(join(dir, "ca.crt"), ca.certPem);
  await writePair(
    dir,
    "node01",
    await issueCertificate(ca, { identity: { role: "node", name: "node01" }, validDays: 10 }),
  );
  return { dir, ca, paths: principalPaths(dir, "node01") };
}

async function writePair(dir: string, name: string, pair: PemPair): Promise<void> {
  await writeFile(join(dir, `${name}.key`), pair.keyPem);
  await writeFile(join(dir, `${name}.crt`), pair.certPem);
}

describe("loadTlsMaterial", () => {
  it("loads a consistent set and names its principal", async () => {
    const { paths } = await setUp();
    const m = await loadTlsMaterial(paths, { role: "node", name: "node01" });
    expect(m.identity).toEqual({ role: "node", name: "node01" });
    expect(m.notAfter.getTime()).toBeGreaterThan(Date.now());
  });

  it("names a missing file", async () => {
    const { paths } = await setUp();
    await rm(paths.key);
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(`private key ${paths.key}: no such file`);
  });

  it("with several files missing, names them in a fixed order (CA, certificate, key), whichever read fails first", async () => {
    const { paths } = await setUp();
    await rm(paths.key);
    await rm(paths.cert);
    for (let i = 0; i < 20; i++)
      await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(`certificate ${paths.cert}: no such file`);
    await rm(paths.ca);
    for (let i = 0; i < 20; i++)
      await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(
        `CA certificate ${paths.ca}: no such file`,
      );
  });

  it("refuses a key of another certificate", async () => {
    const { dir, ca, paths } = await setUp();
    const other = await issueCertificate(ca, { identity: { role: "node", name: "node01" }, validDays: 10 });
    await writeFile(join(dir, "node01.key"), other.keyPem);
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(
      `private key ${paths.key} does not belong to certificate ${paths.cert}`,
    );
  });

  it("refuses a certificate another CA issued", async () => {
    const { dir, paths } = await setUp();
    const stranger = await createCa({ commonName: "other", validDays: 10 });
    await writePair(
      dir,
      "node01",
      await issueCertificate(stranger, { identity: { role: "node", name: "node01" }, validDays: 10 }),
    );
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(
      `certificate ${paths.cert} was not issued by the CA in ${paths.ca}`,
    );
  });

  it("refuses an expired certificate and one not valid yet", async () => {
    const { dir, ca, paths } = await setUp();
    await writePair(
      dir,
      "node01",
      await issueCertificate(ca, {
        identity: { role: "node", name: "node01" },
        validDays: 1,
        notBefore: new Date(Date.now() - 3 * 86_400_000),
      }),
    );
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(/expired on \d{4}-/);
    await writePair(
      dir,
      "node01",
      await issueCertificate(ca, {
        identity: { role: "node", name: "node01" },
        validDays: 1,
        notBefore: new Date(Date.now() + 86_400_000),
      }),
    );
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(/is not valid before/);
  });

  it("refuses a certificate of another principal than expected", async () => {
    const { paths } = await setUp();
    await expect(loadTlsMaterial(paths, { role: "node", name: "node02" })).rejects.toThrow(
      "names node node01, expected node node02",
    );
    await expect(loadTlsMaterial(paths, { role: "gateway" })).rejects.toThrow("names node node01, expected a gateway");
  });

  it("refuses a CA file that holds a principal's certificate, and files past the size bound", async () => {
    const { dir, paths } = await setUp();
    await writeFile(paths.ca, await readFile(paths.cert));
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow("is not a CA certificate");
    await writeFile(join(dir, "ca.crt"), "x".repeat(tlsFileBytesMax + 1));
    await expect(loadTlsMaterial(paths, { role: "node" })).rejects.toThrow(`more than the ${tlsFileBytesMax}`);
  });
});

describe("TlsWatcher", () => {
  let watcher: TlsWatcher | undefined;
  afterEach(() => watcher?.close());

  it("takes a rotated certificate once key and certificate match, keeping the old one meanwhile, and tells its listeners", async () => {
    const { ca, paths } = await setUp();
    watcher = await TlsWatcher.open(
      paths,
      { role: "node", name: "node01" },
      createLogger({ name: "t", level: "silent" }),
      60_000,
    );
    const first = watcher.current.serial;
    const updates: Buffer[] = [];
    watcher.addIdentityCertificateListener((u) => u && updates.push(u.certificate));
    await new Promise((r) => process.nextTick(r));
    expect(updates).toHaveLength(1); // the current value, as grpc-js expects
    const next = await issueCertificate(ca, { identity: { role: "node", name: "node01" }, validDays: 10 });
    // Half a rotation: the new certificate beside the old key. Not taken.
    await writeFile(paths.cert, next.certPem);
    await watcher.check();
    expect(watcher.current.serial).toBe(first);
    expect(watcher.reloads).toBe(0);
    await writeFile(paths.key, next.keyPem);
    await watcher.check();
    expect(watcher.current.serial).not.toBe(first);
    expect(watcher.reloads).toBe(1);
    expect(updates.at(-1)?.toString()).toBe(next.certPem);
    // Nothing changed: nothing reloaded.
    await watcher.check();
    expect(watcher.reloads).toBe(1);
  });
});
