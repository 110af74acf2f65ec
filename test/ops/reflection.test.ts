// Server reflection on the public API, as a generic tool (grpcurl) uses it: a client built only
// from the reflection protocol's own proto lists the services of a running standalone server
// and gets LedgerService's file descriptor, which decodes and names its methods.

import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import {
  loadPackageDefinition,
  type ClientDuplexStream,
  type GrpcObject,
  type ServiceClientConstructor,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { autoCleanup } from "../support/cleanup.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { startStandalone, type RunningStandalone } from "../e2e/standalone-server.js";
import { insecureChannel, type ChannelSecurity } from "../../src/transport/channel-security.js";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { MemoryBackend } from "../gateway/memory-backend.js";

autoCleanup("all");

/** The reflection proto shipped inside @grpc/reflection (its package root, then build/proto). */
const reflectionProtoDir = join(
  dirname(createRequire(import.meta.url).resolve("@grpc/reflection/package.json")),
  "build",
  "proto",
);
const callDeadlineMs = 10_000;

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

function reflectionClient(
  address: string,
  channel: ChannelSecurity,
): { ask(request: Record<string, string>): Promise<ReflectionResponse>; close(): void } {
  const definition = loadSync("grpc/reflection/v1/reflection.proto", {
    includeDirs: [reflectionProtoDir],
    keepCase: true,
  });
  const pkg = loadPackageDefinition(definition) as unknown as { grpc: { reflection: { v1: GrpcObject } } };
  const Client = pkg.grpc.reflection.v1.ServerReflection as ServiceClientConstructor;
  const client = new Client(address, channel.credentials, channel.options);
  return {
    ask: (request) =>
      new Promise((resolve, reject) => {
        const call = (
          client as unknown as { ServerReflectionInfo(o: object): ClientDuplexStream<object, ReflectionResponse> }
        ).ServerReflectionInfo({ deadline: Date.now() + callDeadlineMs });
        call.on("data", (response: ReflectionResponse) => {
          resolve(response);
          call.cancel();
        });
        call.on("error", (e: Error & { code?: number }) => {
          if (e.code !== 1) reject(e); // 1 = CANCELLED, our own cancel after the answer
        });
        call.write(request);
        call.end();
      }),
    close: () => client.close(),
  };
}

describe("server reflection on the standalone server", () => {
  let server: RunningStandalone | undefined;
  let reflection: ReturnType<typeof reflectionClient> | undefined;

  beforeAll(async () => {
    server = await startStandalone(await makeTempDir("reflection-"));
    reflection = reflectionClient(server.address, server.secrets.publicChannel());
  }, 60_000);

  afterAll(() => {
    reflection?.close();
    server?.client.close();
  });

  it("lists ledger.v1.LedgerService (and the health service) among its services", async () => {
    const response = await reflection!.ask({ list_services: "" });
    const names = response.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toContain("ledger.v1.LedgerService");
    expect(names).toContain("grpc.health.v1.Health");
  });

  it("answers file_containing_symbol for LedgerService with a descriptor that decodes and names CreateTransaction", async () => {
    const response = await reflection!.ask({ file_containing_symbol: "ledger.v1.LedgerService" });
    const files = (response.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
    const ledgerFile = files.find(
      (f) => f.package === "ledger.v1" && f.service.some((s) => s.name === "LedgerService"),
    );
    expect(ledgerFile, JSON.stringify(response.error_response ?? files.map((f) => f.name))).toBeDefined();
    const methods = ledgerFile!.service.find((s) => s.name === "LedgerService")!.method.map((m) => m.name);
    expect(methods).toContain("CreateTransaction");
    const createTransaction = ledgerFile!.service[0]!.method.find((m) => m.name === "CreateTransaction")!;
    expect(createTransaction.inputType).toBe(".ledger.v1.CreateTransactionRequest");
  });
});

describe("server reflection on a server with the admin API (the gateway's)", () => {
  let server: LedgerServer | undefined;
  let reflection: ReturnType<typeof reflectionClient> | undefined;

  beforeAll(async () => {
    const logger = createLogger({ name: "reflection", level: "silent" });
    const unused = (): Promise<never> => Promise.reject(new Error("not called"));
    server = await startLedgerServer({
      backend: new MemoryBackend(),
      security: insecureTransport(),
      apiKeys: undefined,
      admin: { clusterStatus: unused, transferLeadership: unused, triggerSnapshot: unused },
      host: "127.0.0.1",
      port: 0,
      logger,
      deps: { now: () => 1n, randomU64: () => 1n, logger },
    });
    reflection = reflectionClient(server.address, insecureChannel);
  });

  afterAll(async () => {
    reflection?.close();
    await server?.shutdown(0);
  });

  it("lists ledger.admin.v1.AdminService next to the LedgerService", async () => {
    const response = await reflection!.ask({ list_services: "" });
    const names = response.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining(["ledger.v1.LedgerService", "ledger.admin.v1.AdminService", "grpc.health.v1.Health"]),
    );
  });
});
