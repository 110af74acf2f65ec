// The ledger's input rules (src/ledger/command-rules.ts), which both the public service and the
// node's Propose apply: one table per rule, and the proof that the gateway words its refusals
// with the same rules.

import { describe, expect, it } from "vitest";
import {
  commandTimestampAheadMsMax,
  commandTimestampBehindMsMax,
  descriptionBytesMax,
  requestIdCharsMax,
} from "../../src/ledger/limits.js";
import {
  createAccountCommand,
  createTransactionCommand,
  settleTransactionCommand,
} from "../../src/gateway/core-requests.js";
import { validateAmount, validateDescription, validateRequestId } from "../../src/gateway/validation.js";
import { create } from "@bufbuild/protobuf";
import { CommandSchema } from "../../src/gen/ledger/core/v1/core_pb.js";
import {
  amountProblem,
  commandRefusal,
  coreRefusal,
  descriptionProblem,
  requestIdProblem,
  timestampRefusal,
  utf8Bytes,
} from "../../src/ledger/command-rules.js";
import { int64Max, int64Min } from "../../src/ledger/int64.js";

const ms = 1_000_000n;
const now = 1_800_000_000_000n * ms;
const tx = (
  fields: Partial<{ amount: bigint; description: string; requestId: string; accountId: bigint; localId: bigint }>,
) =>
  createTransactionCommand(now, {
    accountId: 1n,
    localId: 2n,
    amount: 5n,
    description: "",
    settled: true,
    requestId: "",
    ...fields,
  });

describe("command rules: one field each", () => {
  it.each([
    [0n, "must not be 0"],
    [int64Max + 1n, "must fit in a signed 64-bit integer"],
    [int64Min - 1n, "must fit in a signed 64-bit integer"],
    [1n, undefined],
    [-1n, undefined],
    [int64Max, undefined],
    [int64Min, undefined],
  ])("amount %s: %s", (amount, says) => {
    const problem = amountProblem(amount);
    if (says === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(says);
  });

  it.each([
    ["", undefined],
    ["x".repeat(descriptionBytesMax), undefined],
    ["x".repeat(descriptionBytesMax + 1), `is ${descriptionBytesMax + 1} bytes of UTF-8`],
    ["é".repeat(descriptionBytesMax / 2), undefined],
    ["é".repeat(descriptionBytesMax / 2 + 1), `is ${descriptionBytesMax + 2} bytes of UTF-8`],
    ["😀".repeat(descriptionBytesMax / 4), undefined],
    ["😀".repeat(descriptionBytesMax / 4 + 1), `is ${descriptionBytesMax + 4} bytes of UTF-8`],
    ["a\ud800b", "is not valid UTF-8"],
  ])("description %#: %s", (text, says) => {
    const problem = descriptionProblem(text);
    if (says === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(says);
  });

  it.each([
    ["", undefined],
    ["r".repeat(requestIdCharsMax), undefined],
    ["r".repeat(requestIdCharsMax + 1), `is longer than ${requestIdCharsMax} characters`],
    ["😀".repeat(requestIdCharsMax), undefined],
    ["😀".repeat(requestIdCharsMax + 1), "is longer than"],
    ["\udc00", "is not valid UTF-8"],
  ])("request_id %#: %s", (text, says) => {
    const problem = requestIdProblem(text);
    if (says === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(says);
  });

  it("counts UTF-8 bytes as Buffer does", () => {
    for (const text of ["", "abc", "é", "€", "😀", "a€😀é\u0800\u07ff\uffff"])
      expect(utf8Bytes(text), text).toBe(Buffer.byteLength(text, "utf8"));
  });

  it("the gateway's validation says exactly what the rules say, after the field's name", () => {
    const said = (f: () => unknown): string => {
      try {
        f();
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(said(() => validateAmount(0n, "amount"))).toBe(`amount ${amountProblem(0n)}`);
    const long = "x".repeat(descriptionBytesMax + 1);
    expect(said(() => validateDescription(long, "transactions[2].description"))).toBe(
      `transactions[2].description ${descriptionProblem(long)}`,
    );
    const id = "r".repeat(requestIdCharsMax + 1);
    expect(said(() => validateRequestId(id))).toBe(`request_id ${requestIdProblem(id)}`);
  });
});

describe("command rules: whole commands", () => {
  it.each([
    [create(CommandSchema, { timestamp: now }), "command must set one of create_account"],
    [tx({ amount: 0n }), "command.create_transaction.amount must not be 0"],
    [tx({ accountId: -1n }), "command.create_transaction.account_id must fit in an unsigned 64-bit integer"],
    [tx({ localId: 1n << 64n }), "command.create_transaction.local_id must fit"],
    [settleTransactionCommand(now, { accountId: 1n, localId: -2n }), "command.settle_transaction.local_id must fit"],
  ])("the core cannot apply %#: %s", (command, says) => {
    expect(coreRefusal(command, "command")).toBe(commandRefusal(command, "command"));
    expect(coreRefusal(command, "command")).toContain(says);
  });

  it.each([
    [tx({ description: "x".repeat(20_000) }), "commands[3].create_transaction.description is 20000 bytes of UTF-8"],
    [tx({ requestId: "r".repeat(requestIdCharsMax + 1) }), "commands[3].create_transaction.request_id is longer than"],
    [
      createAccountCommand(now, 1n, "r".repeat(requestIdCharsMax + 1)),
      "commands[3].create_account.request_id is longer than",
    ],
  ])("the public API refuses %#: %s (the core could apply it, so apply does not refuse it)", (command, says) => {
    expect(coreRefusal(command, "commands[3]")).toBeUndefined();
    expect(commandRefusal(command, "commands[3]")).toContain(says);
  });

  it("a command within every limit passes", () => {
    const fine = tx({
      description: "é".repeat(descriptionBytesMax / 2),
      requestId: "r".repeat(requestIdCharsMax),
      amount: int64Min,
    });
    expect(commandRefusal(fine, "command")).toBeUndefined();
    expect(commandRefusal(createAccountCommand(now, 1n, ""), "command")).toBeUndefined();
  });

  it.each([
    [now, undefined],
    [now + BigInt(commandTimestampAheadMsMax) * ms, undefined],
    [now + BigInt(commandTimestampAheadMsMax + 1) * ms, "ahead of this node's clock"],
    [now - BigInt(commandTimestampBehindMsMax) * ms, undefined],
    [now - BigInt(commandTimestampBehindMsMax + 1) * ms, "behind this node's clock"],
    [-1n, "command.timestamp is -1 ns"],
    [0n, "behind this node's clock"],
  ])("timestamp %s against the clock: %s", (timestamp, says) => {
    const refusal = timestampRefusal(timestamp, now, "command.timestamp");
    if (says === undefined) expect(refusal).toBeUndefined();
    else expect(refusal).toContain(says);
  });
});
