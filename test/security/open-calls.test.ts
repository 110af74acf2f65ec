// Health and reflection need no API key, and a Watch or reflection stream stays open as long as
// its client wants: the public server bounds how many are open at once (found by the attack
// review of issue 12: 40,000 unauthenticated Watch streams took the gateway's memory from 118 MB
// to 579 MB).

import { create, toBinary } from "@bufbuild/protobuf";
import { ChannelCredentials, Client, Metadata, status, type ClientReadableStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import { HealthCheckRequestSchema } from "../../src/gen/ledger/wire/v1/foreign_requests_pb.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { MemoryBackend } from "../gateway/memory-backend.js";

const openMax = 3;
let server: LedgerServer | undefined;
let client: Client | undefined;

beforeAll(async () => {
  const logger = createLogger({ name: "open-calls", level: "silent" });
  server = await startLedgerServer({
    backend: new MemoryBackend(),
    security: insecureTransport(),
    apiKeys: undefined,
    openCallsMax: openMax,
    host: "127.0.0.1",
    port: 0,
    logger,
    deps: { now: () => 1n, randomU64: () => 1n, logger },
  });
  client = new Client(server.address, ChannelCredentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(0);
});

/** A Watch stream; resolves once it got its first status message, or with the code it failed with. */
function watch(): { call: ClientReadableStream<Buffer>; first: Promise<"SERVING" | number> } {
  const request = Buffer.from(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: "" })));
  const call = client!.makeServerStreamRequest(
    "/grpc.health.v1.Health/Watch",
    (b: Buffer) => b,
    (b: Buffer) => b,
    request,
    new Metadata(),
    {},
  );
  const first = new Promise<"SERVING" | number>((resolve) => {
    call.once("data", () => resolve("SERVING"));
    call.once("error", (e: { code: number }) => resolve(e.code));
  });
  return { call, first };
}

describe("health and reflection calls on the public server", () => {
  it("are bounded in number: one past the bound gets RESOURCE_EXHAUSTED, and a closed one frees its place", async () => {
    const open = Array.from({ length: openMax }, () => watch());
    for (const w of open) expect(await w.first).toBe("SERVING");
    const refused = watch();
    expect(await refused.first).toBe(status.RESOURCE_EXHAUSTED);
    open[0]!.call.cancel();
    // The server learns of the cancel asynchronously: try until a new stream is taken.
    let again: "SERVING" | number = status.RESOURCE_EXHAUSTED;
    for (let i = 0; i < 100 && again === status.RESOURCE_EXHAUSTED; i++) {
      const w = watch();
      again = await w.first;
      if (again === "SERVING") open.push(w);
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(again).toBe("SERVING");
    for (const w of open) w.call.cancel();
  });
});
