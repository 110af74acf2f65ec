// Review of issue 7 (operations): defects found in the operations HTTP server and the node's
// start-up and shutdown paths. Each test states the correct behaviour and fails while the defect
// is there.

import { connect } from "node:net";
import { execFileSync } from "node:child_process";
import { constants } from "node:fs";
import { open, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { formatClusterConfig, generateClusterConfig } from "../../src/cluster/config.js";
import { startOpsHttpServer, type OpsHttpServer } from "../../src/ops/http-server.js";
import { autoCleanup } from "../support/cleanup.js";
import { findFreePort } from "../support/free-port.js";
import { startTsProcess } from "../support/processes.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

const replyMsMax = 5_000;

/** Sends `request` as raw bytes and resolves with the reply's status line, or "no reply" when the
 * server sends nothing within `replyMsMax`. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const finish = (line: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => finish("no reply"), replyMsMax);
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n");
      if (end >= 0) finish(received.slice(0, end));
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.write(request);
  });
}

describe("operations HTTP server", () => {
  let server: OpsHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("answers a request whose target is not a parseable URL with a 4xx status and keeps serving /metrics", async () => {
    server = await startOpsHttpServer({
      host: "127.0.0.1",
      port: 0,
      routes: { "/metrics": () => ({ contentType: "text/plain; version=0.0.4", body: "up 1\n" }) },
      logger: createLogger({ name: "review-ops", level: "silent" }),
    });
    // "//[" is a valid origin-form target for the HTTP parser but `new URL("//[", base)` throws.
    const status = await rawRequest(server.port, "GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(status).toMatch(/^HTTP\/1\.1 4\d\d /);
    const ok = await rawRequest(server.port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(ok).toBe("HTTP/1.1 200 OK");
  });
});

/** A one-node config (RF 1) on a free port, written to a temp dir. */
async function oneNodeConfig(): Promise<{ path: string; dir: string }> {
  const dir = await makeTempDir("review-ops-");
  const config = generateClusterConfig({ nodes: 1, shards: 2, replicationFactor: 1, basePort: await findFreePort() });
  const path = join(dir, "cluster_config.json");
  await writeFile(path, formatClusterConfig(config));
  return { path, dir };
}

describe("cmd/node.ts --metrics-port", () => {
  it("survives a metrics request whose target is not a parseable URL: the node keeps running and serving /metrics", async () => {
    const { path, dir } = await oneNodeConfig();
    const metricsPort = await findFreePort();
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      path,
      "--data-dir",
      join(dir, "data"),
      "--metrics-port",
      String(metricsPort),
      "--insecure",
    ]);
    await proc.waitForJson((e) => e.msg === "listening", 30_000);
    await rawRequest(metricsPort, "GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").catch(
      () => "connection failed",
    );
    const ok = await rawRequest(
      metricsPort,
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    ).catch((e: unknown) => `connection failed: ${String(e)}`);
    expect(ok, proc.report()).toBe("HTTP/1.1 200 OK");
    expect(await proc.stop(), proc.report()).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe("cmd/node.ts stopped during start-up", () => {
  it("exits 0 when SIGTERM arrives before it listens (here: while it reads its cluster config)", async () => {
    const { path: configPath, dir } = await oneNodeConfig();
    const config = await readFile(configPath);
    // A FIFO as the config file holds the process in start-up until the test writes the config.
    const fifo = join(dir, "cluster_config.fifo");
    execFileSync("mkfifo", [fifo]);
    const proc = startTsProcess("cmd/node.ts", [
      "--node-id",
      "node01",
      "--cluster-config",
      fifo,
      "--data-dir",
      join(dir, "data"),
      "--insecure",
    ]);
    // Opening the write end completes once the node has opened the read end: it is starting.
    const opening = open(fifo, "w");
    const first = await Promise.race([
      opening.then(() => "opened" as const),
      proc.exited.then(() => "exited" as const),
    ]);
    if (first === "exited") {
      // Unblock our own open before failing, so no thread of this process stays stuck on the FIFO.
      const reader = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await (await opening).close();
      await reader.close();
      throw new Error(`the node exited before it read its config: ${proc.report()}`);
    }
    const writer = await opening;
    try {
      proc.signal("SIGTERM");
      // Whatever the node does with the signal, let its read finish so nothing stays blocked.
      await writer.write(config).catch(() => undefined);
    } finally {
      await writer.close().catch(() => undefined);
    }
    expect(await proc.waitForExit(30_000), proc.report()).toEqual({ code: 0, signal: null });
  }, 60_000);
});
