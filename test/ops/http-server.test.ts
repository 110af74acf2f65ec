// The operations HTTP server facing a request target that is not a URL ("//[" passes Node's HTTP
// parser but `new URL(..., base)` throws): it answers with a 4xx and keeps serving, in process
// and as the node's and the gateway's --metrics-port.

import { connect } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { formatClusterConfig, generateClusterConfig } from "../../src/cluster/config.js";
import { startOpsHttpServer, type OpsHttpServer } from "../../src/ops/http-server.js";
import { autoCleanup } from "../support/cleanup.js";
import { findFreePort } from "../support/free-port.js";
import { startTsProcess } from "../support/processes.js";
import { oneShardConfig } from "../support/replica-state-fixtures.js";
import { makeTempDir } from "../support/temp-dirs.js";

autoCleanup();

const badTarget = "GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
const metricsRequest = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

/** Sends `request` as raw bytes and resolves with the reply's status line, or "no reply" when the
 * server sends nothing within `replyMsMax`. */
function rawRequest(port: number, request: string, replyMsMax = 5_000): Promise<string> {
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
      logger: createLogger({ name: "ops-http-server", level: "silent" }),
    });
    const status = await rawRequest(server.port, badTarget);
    expect(status).toMatch(/^HTTP\/1\.1 4\d\d /);
    const ok = await rawRequest(server.port, metricsRequest);
    expect(ok).toBe("HTTP/1.1 200 OK");
  });
});

describe("cmd/node.ts --metrics-port", () => {
  it("survives a metrics request whose target is not a parseable URL: the node keeps running and serving /metrics", async () => {
    // A one-node config (RF 1) on a free port.
    const dir = await makeTempDir("ops-http-server-");
    const config = generateClusterConfig({ nodes: 1, shards: 2, replicationFactor: 1, basePort: await findFreePort() });
    const path = join(dir, "cluster_config.json");
    await writeFile(path, formatClusterConfig(config));
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
    await rawRequest(metricsPort, badTarget).catch(() => "connection failed");
    const ok = await rawRequest(metricsPort, metricsRequest).catch((e: unknown) => `connection failed: ${String(e)}`);
    expect(ok, proc.report()).toBe("HTTP/1.1 200 OK");
    expect(await proc.stop(), proc.report()).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe("cmd/gateway.ts --metrics-port", () => {
  it("answers a request whose target is not a valid URL with 400 and keeps serving", async () => {
    // Nodes on closed ports: the status page shows them down, which is all this test needs.
    const nodes = await Promise.all(
      oneShardConfig.nodes.map(async (n) => ({ ...n, address: `127.0.0.1:${await findFreePort()}` })),
    );
    const path = join(await makeTempDir(), "cluster_config.json");
    await writeFile(path, formatClusterConfig({ ...oneShardConfig, nodes }));
    const gateway = startTsProcess(
      "cmd/gateway.ts",
      ["--port", "0", "--metrics-port", "0", "--cluster-config", path, "--log-format", "json", "--insecure"],
      { name: "gateway" },
    );
    const listening = await gateway.waitForJson((e) => e.msg === "listening" && typeof e.http === "string", 30_000);
    const port = Number(String(listening.http).split(":").at(-1));
    const reply = await rawRequest(port, badTarget, 10_000);
    expect(reply, gateway.report(10)).toMatch(/^HTTP\/1\.1 400 /);
    const after = await fetch(`http://127.0.0.1:${port}/status.json`);
    expect(after.status).toBe(200);
    expect(gateway.exit).toBeUndefined();
  }, 60_000);
});
