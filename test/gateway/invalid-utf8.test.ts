// Strings that are not valid UTF-8 on the wire: the public server answers INVALID_ARGUMENT naming
// the field by its path (never grpc-js's INTERNAL "Error deserializing request"); in a
// CreateTransactions call only the item holding the bad string fails. Also decodeRequest's
// nested field paths, and the status its callers observe.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Client, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerError } from "../../src/base/errors.js";
import { createLogger } from "../../src/base/logger.js";
import { startLedgerServer, type LedgerServer } from "../../src/gateway/grpc-server.js";
import {
  CreateAccountRequestSchema,
  CreateAccountResponseSchema,
  CreateTransactionRequestSchema,
  CreateTransactionsRequestSchema,
  CreateTransactionsResponseSchema,
  type CreateTransactionsResponse,
} from "../../src/gen/ledger/v1/ledger_pb.js";
import { decodeRequest } from "../../src/transport/grpc-service.js";
import { MemoryBackend } from "./memory-backend.js";
import { corruptUtf8, rawLedgerCall } from "./raw-wire.js";
import { insecureTransport } from "../../src/security/transport-security.js";

let server: LedgerServer | undefined;
let client: Client | undefined;
let backend: MemoryBackend;
let observed: { method: string; code: string }[] = [];
let items: string[] = [];

afterEach(async () => {
  client?.close();
  client = undefined;
  await server?.shutdown(1_000);
  server = undefined;
});

async function start(): Promise<void> {
  let random = 0x7000n;
  const logger = createLogger({ name: "invalid-utf8", level: "silent" });
  backend = new MemoryBackend();
  observed = [];
  items = [];
  server = await startLedgerServer({
    security: insecureTransport(),
    apiKeys: undefined,
    backend,
    host: "127.0.0.1",
    port: 0,
    logger,
    deps: { now: () => 1_700_000_000_000_000_000n, randomU64: () => (random += 1n), logger },
    observe: (method, code) => observed.push({ method, code }),
    observeBatchItem: (code) => items.push(code),
  });
  client = new Client(server.address, credentials.createInsecure());
}

/** A unary call with raw request bytes, as any client could put them on the wire. */
function rawCall<T>(method: string, bytes: Uint8Array, decode: (b: Buffer) => T): Promise<T> {
  return rawLedgerCall(client!, method, bytes, decode);
}

async function callError(method: string, bytes: Uint8Array): Promise<ServiceError> {
  return rawCall(method, bytes, (b) => b).then(
    () => {
      throw new Error(`${method} succeeded`);
    },
    (e: ServiceError) => e,
  );
}

const corrupt = corruptUtf8;

async function newAccount(): Promise<string> {
  const response = await rawCall(
    "CreateAccount",
    toBinary(CreateAccountRequestSchema, create(CreateAccountRequestSchema, {})),
    (b) => fromBinary(CreateAccountResponseSchema, b),
  );
  return response.account!.id;
}

describe("invalid UTF-8 on the public API", () => {
  it("CreateTransaction with a bad description fails as INVALID_ARGUMENT naming description, reaches no backend, and is observed as INVALID_ARGUMENT", async () => {
    await start();
    const accountId = await newAccount();
    const request = create(CreateTransactionRequestSchema, {
      accountId,
      amount: 5n,
      settled: true,
      description: "MARKER",
    });
    const e = await callError(
      "CreateTransaction",
      corrupt(toBinary(CreateTransactionRequestSchema, request), "MARKER"),
    );
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toBe("description is not valid UTF-8");
    expect(backend.calls.map((c) => c.method)).toEqual(["update"]); // the CreateAccount only
    expect(observed.at(-1)).toEqual({ method: "CreateTransaction", code: "INVALID_ARGUMENT" });
  });

  it("bytes that are no message at all fail as INVALID_ARGUMENT naming the request type, not INTERNAL", async () => {
    await start();
    const e = await callError("CreateTransaction", new Uint8Array([0x0a, 0x09, 0x61]));
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details).toMatch(/^request is not a valid ledger\.v1\.CreateTransactionRequest: /);
  });

  it("CreateTransactions: bad request_id in item 0 and bad description in item 2 fail those items alone; item 1 is created", async () => {
    await start();
    const accountId = await newAccount();
    const request = create(CreateTransactionsRequestSchema, {
      transactions: [
        create(CreateTransactionRequestSchema, { accountId, amount: 5n, settled: true, requestId: "IDMARK" }),
        create(CreateTransactionRequestSchema, {
          accountId,
          amount: 6n,
          settled: true,
          requestId: "fine-1",
          description: "fine",
        }),
        create(CreateTransactionRequestSchema, {
          accountId,
          amount: 7n,
          settled: true,
          requestId: "fine-2",
          description: "DESCMARK",
        }),
      ],
    });
    const bytes = corrupt(corrupt(toBinary(CreateTransactionsRequestSchema, request), "IDMARK"), "DESCMARK");
    const response: CreateTransactionsResponse = await rawCall("CreateTransactions", bytes, (b) =>
      fromBinary(CreateTransactionsResponseSchema, b),
    );
    expect(response.results.map((r) => r.outcome.case)).toEqual(["error", "transaction", "error"]);
    expect(response.results[0]!.outcome.value).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "transactions[0].request_id is not valid UTF-8",
    });
    expect(response.results[2]!.outcome.value).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "transactions[2].description is not valid UTF-8",
    });
    const created = response.results[1]!.outcome.value as { amount: bigint; description: string };
    expect(created.amount).toBe(6n);
    expect(created.description).toBe("fine");
    // Only the good item reached the backend.
    const batch = backend.calls.find((c) => c.method === "updateMany");
    expect(batch?.method === "updateMany" ? batch.items.length : -1).toBe(1);
    expect(observed.at(-1)).toEqual({ method: "CreateTransactions", code: "OK" });
    expect(items).toEqual(["INVALID_ARGUMENT", "OK", "INVALID_ARGUMENT"]);
  });

  it("CreateTransactions: an item with invalid UTF-8 in its description fails alone, naming transactions[1].description; the other items are created", async () => {
    await start();
    const accountId = await newAccount();
    const request = create(CreateTransactionsRequestSchema, {
      transactions: [
        create(CreateTransactionRequestSchema, { accountId, amount: 5n, settled: true, requestId: "ok-0" }),
        create(CreateTransactionRequestSchema, {
          accountId,
          amount: 6n,
          settled: true,
          requestId: "bad-1",
          description: "MARKERMARKER",
        }),
        create(CreateTransactionRequestSchema, { accountId, amount: 7n, settled: true, requestId: "ok-2" }),
      ],
    });
    const bytes = corrupt(toBinary(CreateTransactionsRequestSchema, request), "MARKERMARKER");

    // A whole-call error is only for a request malformed as a whole.
    const outcome = await rawCall("CreateTransactions", bytes, (b) =>
      fromBinary(CreateTransactionsResponseSchema, b),
    ).then(
      (response: CreateTransactionsResponse) => ({ response }),
      (e: ServiceError) => ({ wholeCallError: `${e.code}: ${e.details}` }),
    );
    expect(outcome).not.toHaveProperty("wholeCallError");
    const { results } = (outcome as { response: CreateTransactionsResponse }).response;
    expect(results.map((r) => r.outcome.case)).toEqual(["transaction", "error", "transaction"]);
    const error = results[1]!.outcome.value as { code: string; message: string };
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/^transactions\[1\]\.description /);
  });

  it("a CreateTransactions whose every item has a bad string answers each item, sending nothing", async () => {
    await start();
    const request = create(CreateTransactionsRequestSchema, {
      transactions: [0, 1].map(() =>
        create(CreateTransactionRequestSchema, { accountId: "x", amount: 1n, description: "MARK" }),
      ),
    });
    const response: CreateTransactionsResponse = await rawCall(
      "CreateTransactions",
      corrupt(toBinary(CreateTransactionsRequestSchema, request), "MARK"),
      (b) => fromBinary(CreateTransactionsResponseSchema, b),
    );
    expect(
      response.results.map((r) => (r.outcome.case === "error" ? r.outcome.value.message : r.outcome.case)),
    ).toEqual(["transactions[0].description is not valid UTF-8", "transactions[1].description is not valid UTF-8"]);
    expect(backend.calls).toEqual([]);
  });
});

describe("decodeRequest", () => {
  it("names a nested field by its path, and counts the others", () => {
    const request = create(CreateTransactionsRequestSchema, {
      transactions: [
        create(CreateTransactionRequestSchema, { accountId: "a", description: "ok" }),
        create(CreateTransactionRequestSchema, { accountId: "a", description: "MARK" }),
        create(CreateTransactionRequestSchema, { accountId: "a", requestId: "MARK" }),
      ],
    });
    const bytes = corrupt(toBinary(CreateTransactionsRequestSchema, request), "MARK");
    const e = (() => {
      try {
        decodeRequest(CreateTransactionsRequestSchema, bytes);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(LedgerError);
    expect((e as LedgerError).code).toBe("INVALID_ARGUMENT");
    expect((e as LedgerError).message).toBe("transactions[1].description is not valid UTF-8 (and 1 more field)");
  });

  it("decodes valid bytes exactly as fromBinary does", () => {
    const request = create(CreateTransactionRequestSchema, {
      accountId: "ab",
      amount: -3n,
      description: "é ünïcödé",
      requestId: "r",
    });
    const bytes = toBinary(CreateTransactionRequestSchema, request);
    expect(decodeRequest(CreateTransactionRequestSchema, bytes)).toEqual(
      fromBinary(CreateTransactionRequestSchema, bytes),
    );
  });
});
