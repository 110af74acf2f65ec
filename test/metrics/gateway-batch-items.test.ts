// The gateway's count of CreateTransactions items by outcome: a call whose items fail still
// answers OK (ledger_grpc_server_handled_total counts one OK call), so the items are counted
// apart, by code, fed by the public service as it answers.

import type { IncomingMessage } from "node:http";
import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import { CreateTransactionRequestSchema, LedgerService } from "../../src/gen/ledger/v1/ledger_pb.js";
import { formatAccountId } from "../../src/ledger/ids.js";
import { createGatewayMetrics, type GatewayMetrics } from "../../src/metrics/gateway-metrics.js";
import { createUnaryClient, type UnaryClient } from "../../src/transport/grpc-service.js";
import { MemoryBackend } from "../gateway/memory-backend.js";
import { parseExposition, samplesOf, sampleValue, type Exposition } from "./exposition.js";
import { insecureTransport } from "../../src/security/transport-security.js";

let server: LedgerServer | undefined;
let client: UnaryClient<typeof LedgerService> | undefined;

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.shutdown(1_000);
  server = undefined;
});

async function scrape(metrics: GatewayMetrics): Promise<Exposition> {
  const route = metrics.routes["/metrics"];
  if (route === undefined) throw new Error("no /metrics route");
  return parseExposition(String((await route({} as IncomingMessage)).body));
}

describe("gateway metrics: CreateTransactions items", () => {
  it("counts each item by outcome while the call counts as one OK call", async () => {
    const metrics = createGatewayMetrics();
    const logger = createLogger({ name: "gateway-batch-items", level: "silent" });
    let random = 0x9000n;
    server = await startLedgerServer({
      security: insecureTransport(),
      apiKeys: undefined,
      backend: new MemoryBackend(),
      host: "127.0.0.1",
      port: 0,
      logger,
      deps: { now: () => 1_700_000_000_000_000_000n, randomU64: () => (random += 1n), logger },
      observe: metrics.observeCall,
      observeBatchItem: metrics.observeBatchItem,
    });
    client = createUnaryClient(LedgerService, server.address, { defaultDeadlineMs: 10_000 });
    const accountId = (await client.createAccount({ $typeName: "ledger.v1.CreateAccountRequest", requestId: "" }))
      .account!.id;
    const item = (fields: { accountId: string; amount: bigint }) =>
      create(CreateTransactionRequestSchema, { settled: true, ...fields });
    const response = await client.createTransactions({
      $typeName: "ledger.v1.CreateTransactionsRequest",
      transactions: [
        item({ accountId, amount: 10n }),
        item({ accountId, amount: 0n }), // INVALID_ARGUMENT, never sent
        item({ accountId: formatAccountId(0x1234n), amount: 5n }), // NOT_FOUND from the core
        item({ accountId, amount: 20n }),
      ],
    });
    expect(response.results.map((r) => (r.outcome.case === "error" ? r.outcome.value.code : r.outcome.case))).toEqual([
      "transaction",
      "INVALID_ARGUMENT",
      "NOT_FOUND",
      "transaction",
    ]);

    const e = await scrape(metrics);
    const items = (code: string): number => sampleValue(e, "ledger_gateway_batch_items_total", { code });
    expect(items("OK")).toBe(2);
    expect(items("INVALID_ARGUMENT")).toBe(1);
    expect(items("NOT_FOUND")).toBe(1);
    expect(samplesOf(e, "ledger_gateway_batch_items_total")).toHaveLength(3);
    expect(e.types.get("ledger_gateway_batch_items_total")).toBe("counter");
    expect(sampleValue(e, "ledger_grpc_server_handled_total", { method: "CreateTransactions", code: "OK" })).toBe(1);
  });
});
