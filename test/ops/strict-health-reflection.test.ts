// The third-party services our servers host, grpc.health.v1 and server reflection (v1 and
// v1alpha), decode strictly (issue 12): junk bytes and 100,000 nested start-group tags get
// INVALID_ARGUMENT, never grpc-js's INTERNAL "Error deserializing request", and the service then
// answers a valid call (finding 8); a 100,000-character health service name gets INVALID_ARGUMENT
// with a short message rather than a NOT_FOUND that quotes it whole (finding 9). On the public
// server (startLedgerServer: standalone and gateway) and, for health, on a node.

import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import {
  Client,
  credentials,
  makeGenericClientConstructor,
  status,
  type ClientReadableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quotedInputCharsMax } from "../../src/base/limits.js";
import { healthServiceNameCharsMax } from "../../src/ops/limits.js";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import {
  HealthCheckRequestSchema,
  HealthListRequestSchema,
  ServerReflectionRequestSchema,
} from "../../src/gen/ledger/wire/v1/foreign_requests_pb.js";
import { healthServiceDefinition } from "../../src/ops/health.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { autoCleanup } from "../support/cleanup.js";
import { MemoryBackend } from "../gateway/memory-backend.js";
import { startOneNode, type OneNode } from "../transport/one-node.js";
import {
  junkBytes,
  rawBidi,
  rawServerStream,
  rawUnary,
  startGroupRun,
  type RawOutcome,
} from "../transport/raw-calls.js";

autoCleanup("all");

/** A field number none of the requests has, so the run is of unknown groups. */
const unknownFieldNo = 127;
const groupRun = startGroupRun(unknownFieldNo, 100_000);
/** A status message a standard client takes whole (trailers stay far below 8 KiB). */
const shortMessageCharsMax = 300;

interface HealthClient extends Client {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (e: ServiceError | null, response?: { status: string }) => void,
  ): void;
  watch(request: { service: string }): ClientReadableStream<{ status: string }>;
}
const HealthClientCtor = makeGenericClientConstructor(healthServiceDefinition, "Health") as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => HealthClient;

/** Health Check through the standard client: the status, or the call's error. */
function check(address: string, service: string): Promise<{ status?: string; error?: ServiceError }> {
  const client = new HealthClientCtor(address, credentials.createInsecure());
  return new Promise<{ status?: string; error?: ServiceError }>((resolve) =>
    client.check({ service }, { deadline: Date.now() + 20_000 }, (error, response) =>
      resolve(error ? { error } : { status: response!.status }),
    ),
  ).finally(() => client.close());
}

/** A method's raw call, its request type as the error names it, and its own request schema. */
interface Method {
  name: string;
  typeName: string;
  schema: DescMessage;
  call: (client: Client, bytes: Uint8Array) => Promise<RawOutcome>;
}

const healthMethods: Method[] = [
  {
    name: "Check",
    typeName: "grpc.health.v1.HealthCheckRequest",
    schema: HealthCheckRequestSchema,
    call: (c, b) => rawUnary(c, "/grpc.health.v1.Health/Check", b),
  },
  {
    name: "Watch",
    typeName: "grpc.health.v1.HealthCheckRequest",
    schema: HealthCheckRequestSchema,
    call: (c, b) => rawServerStream(c, "/grpc.health.v1.Health/Watch", b),
  },
  {
    name: "List",
    typeName: "grpc.health.v1.HealthListRequest",
    schema: HealthListRequestSchema,
    call: (c, b) => rawUnary(c, "/grpc.health.v1.Health/List", b),
  },
];

const reflectionMethods: Method[] = ["v1", "v1alpha"].map((version) => ({
  name: `${version} ServerReflectionInfo`,
  typeName: `grpc.reflection.${version}.ServerReflectionRequest`,
  schema: ServerReflectionRequestSchema,
  call: (c: Client, b: Uint8Array) =>
    rawBidi(c, `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`, [b]),
}));

function expectRefused(outcome: RawOutcome, method: Method, why: RegExp): void {
  expect(outcome.code, outcome.details).toBe(status.INVALID_ARGUMENT);
  expect(outcome.details.startsWith(`request is not a valid ${method.typeName}: `), outcome.details).toBe(true);
  expect(outcome.details.slice(`request is not a valid ${method.typeName}: `.length)).toMatch(why);
  expect(outcome.details.length).toBeLessThan(shortMessageCharsMax);
}

const junkWhy = /^the message ends inside a tag \(a varint at byte 0\)$/;
const groupsWhy = new RegExp(`^field ${unknownFieldNo} of .* nests unknown groups deeper than \\d+$`);

describe("health and reflection on the public server", () => {
  let server: LedgerServer | undefined;
  let client: Client | undefined;

  beforeAll(async () => {
    let random = 0x6000n;
    const logger = createLogger({ name: "strict-health-reflection", level: "silent" });
    server = await startLedgerServer({
      backend: new MemoryBackend(),
      security: insecureTransport(),
      apiKeys: undefined,
      host: "127.0.0.1",
      port: 0,
      logger,
      deps: { now: () => 1_700_000_000_000_000_000n, randomU64: () => (random += 1n), logger },
    });
    client = new Client(server.address, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await server?.shutdown(1_000);
  });

  /** A valid reflection question: the answer lists the public service. */
  async function listServices(method: Method): Promise<void> {
    const request = create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } });
    const outcome = await method.call(client!, toBinary(ServerReflectionRequestSchema, request));
    expect(outcome.code, outcome.details).toBe(status.OK);
    expect(Buffer.concat(outcome.responses).includes("ledger.v1.LedgerService")).toBe(true);
  }

  describe.each(healthMethods)("8: grpc.health.v1.Health/$name", (method) => {
    it("answers junk bytes with INVALID_ARGUMENT, then a valid Check", async () => {
      expectRefused(await method.call(client!, junkBytes), method, junkWhy);
      expect(await check(server!.address, "")).toEqual({ status: "SERVING" });
    });

    it("answers 100,000 nested start-group tags with INVALID_ARGUMENT, then a valid Check", async () => {
      expect(method.schema.fields.map((f) => f.number)).not.toContain(unknownFieldNo);
      expectRefused(await method.call(client!, groupRun), method, groupsWhy);
      expect(await check(server!.address, "ledger.v1.LedgerService")).toEqual({ status: "SERVING" });
    });
  });

  it("8: a known field with the wrong wire type (Check's service as VARINT) is refused, not misread", async () => {
    const method = healthMethods[0]!;
    expectRefused(
      await method.call(client!, Uint8Array.of(0x08, 0x01)),
      method,
      /^service has wire type VARINT, expected LEN$/,
    );
  });

  describe.each(reflectionMethods)("8: $name", (method) => {
    it("answers junk bytes with INVALID_ARGUMENT, then a valid question", async () => {
      expectRefused(await method.call(client!, junkBytes), method, junkWhy);
      await listServices(method);
    });

    it("answers 100,000 nested start-group tags with INVALID_ARGUMENT, then a valid question", async () => {
      expect(method.schema.fields.map((f) => f.number)).not.toContain(unknownFieldNo);
      expectRefused(await method.call(client!, groupRun), method, groupsWhy);
      await listServices(method);
    });
  });

  it("9: Check and Watch for a 100,000-character service name get INVALID_ARGUMENT with a short message naming service", async () => {
    const name = "s".repeat(100_000);
    const checked = await check(server!.address, name);
    expect(checked.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(checked.error?.details).toBe(
      `service is ${name.length} characters long; at most ${healthServiceNameCharsMax} are allowed`,
    );
    const request = toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: name }));
    const watched = await healthMethods[1]!.call(client!, request);
    expect({ code: watched.code, details: watched.details }).toEqual({
      code: status.INVALID_ARGUMENT,
      details: checked.error?.details,
    });
  });

  it("a valid Watch still gets the current status (the guarded handler passes it on)", async () => {
    const health = new HealthClientCtor(server!.address, credentials.createInsecure());
    const call = health.watch({ service: "ledger.v1.LedgerService" });
    const first = await new Promise<string>((resolve, reject) => {
      call.on("data", (r: { status: string }) => resolve(r.status));
      call.on("error", (e: ServiceError) => (e.code === status.CANCELLED ? undefined : reject(e)));
    });
    call.cancel();
    health.close();
    expect(first).toBe("SERVING");
  });

  it("9: Check's NOT_FOUND quotes an unknown service name cut to a bounded prefix", async () => {
    const name = "u".repeat(healthServiceNameCharsMax);
    const checked = await check(server!.address, name);
    expect(checked.error?.code).toBe(status.NOT_FOUND);
    expect(checked.error?.details).toBe(
      `service "${"u".repeat(quotedInputCharsMax)}"... (${name.length - quotedInputCharsMax} more characters) has no health status on this server`,
    );
  });
});

describe("health on a node", () => {
  let node: OneNode;

  beforeAll(async () => {
    node = await startOneNode();
  });

  afterAll(async () => {
    await node?.stop();
    expect(node?.fatalErrors ?? []).toEqual([]);
  });

  const checkMethod = healthMethods[0]!;
  /** The node answers Check with its status (NOT_SERVING here: its peers never start). */
  const answersCheck = async (): Promise<void> =>
    expect((await check(node.address, "ledger.node.v1.NodeService")).status).toMatch(/^(NOT_)?SERVING$/);

  it("8: answers junk bytes and 100,000 nested start-group tags with INVALID_ARGUMENT, then a valid Check", async () => {
    expectRefused(await checkMethod.call(node.client, junkBytes), checkMethod, junkWhy);
    await answersCheck();
    expectRefused(await checkMethod.call(node.client, groupRun), checkMethod, groupsWhy);
    await answersCheck();
  });

  it("9: Check for a 100,000-character service name gets INVALID_ARGUMENT with a short message naming service", async () => {
    const checked = await check(node.address, "n".repeat(100_000));
    expect(checked.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(checked.error?.details).toMatch(/^service is 100000 characters long; /);
    expect(checked.error!.details.length).toBeLessThan(shortMessageCharsMax);
  });
});
