// Micro-benchmark of the strict wire check (src/transport/wire-check.ts), which runs before every
// request is decoded: `npx tsx test/tools/wire-check-bench.ts`. Prints microseconds per call for a
// ~100-byte CreateTransactionRequest and a 1,000-item CreateTransactionsRequest, beside
// protobuf-es's own decode of the same bytes for scale. Not a test: timings vary by machine.

import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { CreateTransactionRequestSchema, CreateTransactionsRequestSchema } from "../../src/gen/ledger/v1/ledger_pb.js";
import { decodeRequest } from "../../src/transport/grpc-service.js";
import { checkWire } from "../../src/transport/wire-check.js";

function bench(name: string, iterations: number, run: () => unknown): void {
  for (let i = 0; i < iterations / 10; i++) run(); // warm-up: let V8 optimise
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  const us = Number(process.hrtime.bigint() - started) / 1_000 / iterations;
  console.log(`${name.padEnd(48)} ${us.toFixed(3)} us`);
}

function mustPass(schema: DescMessage, bytes: Uint8Array): void {
  const problem = checkWire(schema, bytes);
  if (problem !== undefined) throw new Error(`the benchmark's own message fails the check: ${problem}`);
}

const one = create(CreateTransactionRequestSchema, {
  accountId: "0123456789abcdef",
  amount: -12_345n,
  description: "coffee and a croissant at the corner shop",
  settled: true,
  requestId: "req-0123456789abcdef-0123456789",
});
const small = toBinary(CreateTransactionRequestSchema, one);
const batch = toBinary(
  CreateTransactionsRequestSchema,
  create(CreateTransactionsRequestSchema, { transactions: Array.from({ length: 1_000 }, () => one) }),
);
mustPass(CreateTransactionRequestSchema, small);
mustPass(CreateTransactionsRequestSchema, batch);

bench(`checkWire, ${small.length}-byte CreateTransactionRequest`, 1_000_000, () =>
  checkWire(CreateTransactionRequestSchema, small),
);
bench(`fromBinary, the same bytes`, 300_000, () => fromBinary(CreateTransactionRequestSchema, small));
bench(`decodeRequest (check + decode), the same bytes`, 300_000, () =>
  decodeRequest(CreateTransactionRequestSchema, small),
);
bench(`checkWire, 1,000-item CreateTransactionsRequest`, 2_000, () =>
  checkWire(CreateTransactionsRequestSchema, batch),
);
bench(`fromBinary, the same bytes`, 500, () => fromBinary(CreateTransactionsRequestSchema, batch));
