import { create, toBinary } from "@bufbuild/protobuf";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { CreateTransactionRequestSchema, LedgerService, TransactionStatus } from "../../src/gen/ledger/v1/ledger_pb.js";
import {
  addUnaryService,
  createUnaryClient,
  decodeRequest,
  type UnaryImpl,
  type UnaryClient,
} from "../../src/transport/grpc-service.js";

const notImplemented = async (): Promise<never> => {
  throw new LedgerError("INTERNAL", "not in this test");
};

describe("gRPC adapter for protobuf-es services", () => {
  let server: Server;
  let client: UnaryClient<typeof LedgerService>;
  const internalErrors: string[] = [];

  beforeAll(async () => {
    server = new Server();
    const impl: UnaryImpl<typeof LedgerService> = {
      createAccount: notImplemented,
      getAccount: async (req) => {
        if (req.accountId === "leader") throw new LedgerError("NOT_LEADER", "not the leader", { leader: "node02" });
        if (req.accountId === "boom") throw new Error("a bug");
        return { $typeName: "ledger.v1.GetAccountResponse", account: undefined };
      },
      createTransaction: async (req, ctx) => ({
        $typeName: "ledger.v1.CreateTransactionResponse",
        transaction: {
          $typeName: "ledger.v1.Transaction",
          id: req.accountId,
          amount: req.amount,
          description: req.description,
          status: TransactionStatus.PENDING,
          createdAt: BigInt(ctx.deadlineMs ?? 0),
          updatedAt: 0n,
        },
      }),
      getTransaction: notImplemented,
      settleTransaction: notImplemented,
      cancelTransaction: notImplemented,
      listTransactions: notImplemented,
      createTransactions: notImplemented,
    };
    addUnaryService(server, LedgerService, impl, (method, e) => internalErrors.push(`${method}: ${String(e)}`));
    const port = await new Promise<number>((ok, fail) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))),
    );
    client = createUnaryClient(LedgerService, `127.0.0.1:${port}`, { defaultDeadlineMs: 5_000 });
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  it("round-trips a request and response with bigint fields and passes the deadline", async () => {
    const deadlineMs = Date.now() + 3_000;
    const res = await client.createTransaction(
      create(CreateTransactionRequestSchema, {
        accountId: "a",
        amount: -9_223_372_036_854_775_808n,
        description: "héllo",
      }),
      { deadlineMs },
    );
    expect(res.transaction?.amount).toBe(-9_223_372_036_854_775_808n);
    expect(res.transaction?.description).toBe("héllo");
    // grpc-js carries deadlines at millisecond precision, give or take clock rounding.
    expect(Math.abs(Number(res.transaction?.createdAt) - deadlineMs)).toBeLessThan(50);
  });

  it("delivers our error code and details, including codes gRPC lacks", async () => {
    const err = await client
      .getAccount({ $typeName: "ledger.v1.GetAccountRequest", accountId: "leader" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerError);
    expect((err as LedgerError).code).toBe("NOT_LEADER");
    expect((err as LedgerError).message).toBe("not the leader");
    expect((err as LedgerError).details).toEqual({ leader: "node02" });
  });

  it("hides an unexpected exception as INTERNAL and reports it to the server", async () => {
    const err = await client
      .getAccount({ $typeName: "ledger.v1.GetAccountRequest", accountId: "boom" })
      .catch((e: unknown) => e);
    expect((err as LedgerError).code).toBe("INTERNAL");
    expect((err as LedgerError).message).not.toContain("a bug");
    expect(internalErrors).toEqual(["GetAccount: Error: a bug"]);
  });

  it("fails with UNAVAILABLE when nothing listens", async () => {
    const dead = createUnaryClient(LedgerService, "127.0.0.1:1", { defaultDeadlineMs: 2_000 });
    const err = await dead
      .getAccount({ $typeName: "ledger.v1.GetAccountRequest", accountId: "x" })
      .catch((e: unknown) => e);
    dead.close();
    expect((err as LedgerError).code).toBe("UNAVAILABLE");
  });

  it("names the field whose bytes are not valid UTF-8", () => {
    const bytes = toBinary(
      CreateTransactionRequestSchema,
      create(CreateTransactionRequestSchema, { accountId: "ab", description: "ok" }),
    );
    bytes[bytes.length - 1] = 0xff; // the last byte belongs to description
    expect(() => decodeRequest(CreateTransactionRequestSchema, bytes)).toThrow(/^description is not valid UTF-8$/);
    try {
      decodeRequest(CreateTransactionRequestSchema, bytes);
    } catch (e) {
      expect((e as LedgerError).code).toBe("INVALID_ARGUMENT");
    }
  });

  it("reports a malformed message as INVALID_ARGUMENT", () => {
    expect(() => decodeRequest(CreateTransactionRequestSchema, new Uint8Array([0x0a, 0x09, 0x61]))).toThrow(
      LedgerError,
    );
  });
});
