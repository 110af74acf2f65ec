// Findings 6-9 of issue 12, against real in-process servers on 127.0.0.1 with raw request bytes:
// - 6: a known field on the wire with the wrong wire type (settled as LEN) is refused, not read;
// - 7: a length prefix of 2^32+3 is refused, not truncated to 3;
// - 8: undecodable bytes on the node's streams (NodeService/Calls, RaftTransportService/Messages
//   and InstallSnapshot) get INVALID_ARGUMENT, never INTERNAL, and the stream serves a valid call
//   afterwards (health and reflection: test/ops/strict-health-reflection.test.ts);
// - 9: a 100,000-character shard_id or to_node_id gets INVALID_ARGUMENT with a short message, not
//   a status whose trailers a client refuses (RESOURCE_EXHAUSTED).
// The public server is startLedgerServer, which both the standalone server and the gateway run
// (the backend differs: an in-memory ledger here); the node is startNodeServer.

import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Client, credentials, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { quotedInputCharsMax } from "../../src/base/limits.js";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import {
  CallsRequestSchema,
  CallsResponseSchema,
  InstallSnapshotRequestSchema,
  MessagesRequestSchema,
  NodeCallSchema,
  ProposeRequestSchema,
  ReadRequestSchema,
  SnapshotHeaderSchema,
  TransferLeadershipRequestSchema,
  TriggerSnapshotRequestSchema,
} from "../../src/gen/ledger/node/v1/node_pb.js";
import {
  CreateAccountResponseSchema,
  CreateTransactionResponseSchema,
  TransactionStatus,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { insecureTransport } from "../../src/security/transport-security.js";
import { autoCleanup } from "../support/cleanup.js";
import { MemoryBackend } from "../gateway/memory-backend.js";
import { startOneNode, type OneNode } from "./one-node.js";
import { junkBytes, rawBidi, rawClientStream, rawUnary, startGroupRun, type RawOutcome } from "./raw-calls.js";

autoCleanup("all");

const concat = (...parts: (Uint8Array | number[])[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
/** A status message a standard client takes whole (trailers stay far below 8 KiB). */
const shortMessageCharsMax = 300;

describe("the public LedgerService decodes strictly (findings 6 and 7)", () => {
  let server: LedgerServer | undefined;
  let client: Client | undefined;
  let backend: MemoryBackend;

  afterEach(async () => {
    client?.close();
    client = undefined;
    await server?.shutdown(1_000);
    server = undefined;
  });

  async function start(): Promise<void> {
    let random = 0x5000n;
    const logger = createLogger({ name: "strict-decoding", level: "silent" });
    backend = new MemoryBackend();
    server = await startLedgerServer({
      backend,
      security: insecureTransport(),
      apiKeys: undefined,
      host: "127.0.0.1",
      port: 0,
      logger,
      deps: { now: () => 1_700_000_000_000_000_000n, randomU64: () => (random += 1n), logger },
    });
    client = new Client(server.address, credentials.createInsecure());
  }

  const createTransaction = (bytes: Uint8Array): Promise<RawOutcome> =>
    rawUnary(client!, "/ledger.v1.LedgerService/CreateTransaction", bytes);

  async function newAccountId(): Promise<string> {
    const outcome = await rawUnary(client!, "/ledger.v1.LedgerService/CreateAccount", new Uint8Array(0));
    expect(outcome.code).toBe(status.OK);
    return fromBinary(CreateAccountResponseSchema, outcome.responses[0]!).account!.id;
  }

  /** account_id (field 1, LEN, 16 bytes) and amount 5 (field 2, VARINT): `0a10<id>1005`. */
  const head = (accountId: string): Uint8Array => concat([0x0a, 0x10], ascii(accountId), [0x10, 0x05]);

  it("6: settled (field 4, a bool) sent as LEN fails with INVALID_ARGUMENT naming settled, and nothing is created", async () => {
    await start();
    const accountId = await newAccountId();
    const callsBefore = backend.calls.length;
    const outcome = await createTransaction(concat(head(accountId), [0x22, 0x02, 0x38, 0x00]));
    expect(outcome.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toBe(
      "request is not a valid ledger.v1.CreateTransactionRequest: settled has wire type LEN, expected VARINT",
    );
    expect(backend.calls.length).toBe(callsBefore);
    // The same request with settled as a VARINT is a valid one, applied as SETTLED.
    const valid = await createTransaction(concat(head(accountId), [0x20, 0x01]));
    expect(valid.code).toBe(status.OK);
    expect(fromBinary(CreateTransactionResponseSchema, valid.responses[0]!).transaction!.status).toBe(
      TransactionStatus.SETTLED,
    );
  });

  it("7: a description length prefix of 2^32+3 fails with INVALID_ARGUMENT naming description, and nothing is created", async () => {
    await start();
    const accountId = await newAccountId();
    const callsBefore = backend.calls.length;
    const outcome = await createTransaction(
      concat(head(accountId), [0x1a, 0x83, 0x80, 0x80, 0x80, 0x10], ascii("abc"), [0x20, 0x01]),
    );
    expect(outcome.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toBe(
      "request is not a valid ledger.v1.CreateTransactionRequest: description has a length of 4294967299 bytes, more than 2^32-1",
    );
    expect(backend.calls.length).toBe(callsBefore);
    // With the length prefix 3 (what the truncation made of it) the request is valid.
    const valid = await createTransaction(concat(head(accountId), [0x1a, 0x03], ascii("abc"), [0x20, 0x01]));
    expect(valid.code).toBe(status.OK);
    expect(fromBinary(CreateTransactionResponseSchema, valid.responses[0]!).transaction!.description).toBe("abc");
  });
});

describe("the node's services (findings 8 and 9)", () => {
  let node: OneNode;

  beforeAll(async () => {
    node = await startOneNode();
  });

  afterAll(async () => {
    await node?.stop();
    expect(node?.fatalErrors ?? []).toEqual([]);
  });

  /** A field number none of the stream requests has, so the run is of unknown groups. */
  const unknownFieldNo = 127;
  const groupRun = startGroupRun(unknownFieldNo, 100_000);

  /** Each stream: how to call it with raw messages, its request schema, a valid call with a status
   * that proves it was served, and whether it takes an empty request message and reads on. */
  const streams: {
    path: string;
    schema: DescMessage;
    call: (messages: Uint8Array[]) => Promise<RawOutcome>;
    valid: () => Promise<void>;
    readsOnAfterEmpty: boolean;
  }[] = [
    {
      path: "/ledger.node.v1.NodeService/Calls",
      schema: CallsRequestSchema,
      call: (messages) => rawBidi(node.client, "/ledger.node.v1.NodeService/Calls", messages),
      readsOnAfterEmpty: true,
      valid: async () => {
        const propose = create(ProposeRequestSchema, { shardId: "no-such-shard", command: Uint8Array.of(1) });
        const request = create(CallsRequestSchema, {
          calls: [create(NodeCallSchema, { callId: 7n, kind: { case: "propose", value: propose } })],
        });
        const outcome = await rawBidi(node.client, "/ledger.node.v1.NodeService/Calls", [
          toBinary(CallsRequestSchema, request),
        ]);
        expect(outcome.code).toBe(status.OK);
        const replies = outcome.responses.flatMap((b) => fromBinary(CallsResponseSchema, b).replies);
        expect(replies.map((r) => [r.callId, r.kind.case === "error" ? r.kind.value.message : r.kind.case])).toEqual([
          [7n, 'shard_id "no-such-shard" is not a shard of the cluster config'],
        ]);
      },
    },
    {
      path: "/ledger.node.v1.RaftTransportService/Messages",
      schema: MessagesRequestSchema,
      call: (messages) => rawBidi(node.client, "/ledger.node.v1.RaftTransportService/Messages", messages),
      readsOnAfterEmpty: true, // a batch from no known node is dropped, the stream goes on
      valid: async () => {
        const batch = create(MessagesRequestSchema, {
          fromNodeId: node.peerId,
          configVersion: node.config.version,
          messages: [],
        });
        const outcome = await rawBidi(node.client, "/ledger.node.v1.RaftTransportService/Messages", [
          toBinary(MessagesRequestSchema, batch),
        ]);
        expect(outcome.code).toBe(status.OK);
      },
    },
    {
      path: "/ledger.node.v1.RaftTransportService/InstallSnapshot",
      schema: InstallSnapshotRequestSchema,
      call: (messages) =>
        rawClientStream(node.client, "/ledger.node.v1.RaftTransportService/InstallSnapshot", messages),
      readsOnAfterEmpty: false, // refused: a snapshot stream must start with a header
      valid: async () => {
        // A header from a known peer with another config version: refused after decoding, by the receiver.
        const header = create(SnapshotHeaderSchema, {
          fromNodeId: node.peerId,
          configVersion: node.config.version + 1,
          shardId: node.config.shards[0]!.id,
        });
        const request = create(InstallSnapshotRequestSchema, { kind: { case: "header", value: header } });
        const outcome = await rawClientStream(node.client, "/ledger.node.v1.RaftTransportService/InstallSnapshot", [
          toBinary(InstallSnapshotRequestSchema, request),
        ]);
        expect(outcome.code).toBe(status.FAILED_PRECONDITION);
        expect(outcome.details).toMatch(/^header\.config_version is /);
      },
    },
  ];

  describe.each(streams)("8: $path", ({ schema, call, valid }) => {
    it("answers junk bytes with INVALID_ARGUMENT, then serves a valid call", async () => {
      const outcome = await call([junkBytes]);
      expect(outcome).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: `request is not a valid ${schema.typeName}: the message ends inside a tag (a varint at byte 0)`,
      });
      await valid();
    });

    it("answers 100,000 nested start-group tags with INVALID_ARGUMENT, then serves a valid call", async () => {
      expect(schema.fields.map((f) => f.number)).not.toContain(unknownFieldNo);
      const outcome = await call([groupRun]);
      expect(outcome.code).toBe(status.INVALID_ARGUMENT);
      expect(outcome.details).toMatch(
        new RegExp(
          `^request is not a valid ${schema.typeName.replaceAll(".", "\\.")}: field ${unknownFieldNo} of .* nests unknown groups deeper than \\d+$`,
        ),
      );
      await valid();
    });
  });

  describe.each(streams.filter((s) => s.readsOnAfterEmpty))("8: $path, mid-stream", ({ schema, call, valid }) => {
    it("ends the stream with INVALID_ARGUMENT when a bad message follows a valid one", async () => {
      const outcome = await call([toBinary(schema, create(schema)), junkBytes]);
      expect(outcome).toMatchObject({
        code: status.INVALID_ARGUMENT,
        details: `request is not a valid ${schema.typeName}: the message ends inside a tag (a varint at byte 0)`,
      });
      await valid();
    });
  });

  const longText = "x".repeat(100_000);
  const shardId = (): string => node.config.shards[0]!.id;
  const unaryCalls: [string, string, () => Uint8Array][] = [
    [
      "Propose",
      "shard_id",
      () =>
        toBinary(ProposeRequestSchema, create(ProposeRequestSchema, { shardId: longText, command: Uint8Array.of(1) })),
    ],
    ["Read", "shard_id", () => toBinary(ReadRequestSchema, create(ReadRequestSchema, { shardId: longText }))],
    [
      "TriggerSnapshot",
      "shard_id",
      () => toBinary(TriggerSnapshotRequestSchema, create(TriggerSnapshotRequestSchema, { shardId: longText })),
    ],
    [
      "TransferLeadership",
      "to_node_id",
      () =>
        toBinary(
          TransferLeadershipRequestSchema,
          create(TransferLeadershipRequestSchema, { shardId: shardId(), toNodeId: longText }),
        ),
    ],
  ];

  it.each(unaryCalls)(
    "9: NodeService/%s with a 100,000-character %s gets INVALID_ARGUMENT with a short message naming the field",
    async (method, field, request) => {
      const outcome = await rawUnary(node.client, `/ledger.node.v1.NodeService/${method}`, request());
      expect(outcome.code).toBe(status.INVALID_ARGUMENT);
      expect(outcome.details.startsWith(`${field} "xxxx`)).toBe(true);
      expect(outcome.details).toContain(`(${longText.length - quotedInputCharsMax} more characters)`);
      expect(outcome.details.length).toBeLessThan(shortMessageCharsMax);
    },
  );
});
