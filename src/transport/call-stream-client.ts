// The gateway's end of its one long-lived NodeService/Calls stream to a node. propose() and
// read() look like the unary client's methods, but the calls made in one event-loop turn go out
// as ONE CallsRequest (one stream write), and the node answers them on the same stream, batched
// the same way, each reply tagged with its call's id. This replaces a grpc-js call, an HTTP/2
// stream and a deadline timer in grpc-js per request with a share of one write.
//
// What a failure says about whether the node may have run a call is kept exact, because the
// gateway's retries depend on it (src/gateway/retry-policy.ts: details.applied = "no", or
// grpc-js's "No connection established", means certainly not sent):
// - A batch is written only once the node accepted the stream (its response headers came); a
//   call not yet written when it fails carries applied = "no".
// - A written call that loses its stream (error status, reset, keepalive) fails UNAVAILABLE
//   without that mark: it may have reached the node.
// - A node that ends the stream cleanly (status OK, as a stopping node does) has answered every
//   call it accepted and ran none after (call-stream-server.ts, beside this file): unanswered calls were not run.
// - A stream that never connected fails with grpc-js's own message, which says so.
// A call's deadline and its abort signal are enforced here, at once; the late reply is ignored.
// The node is told the time left when the call is written, not when it was made: a call can
// wait long in the queue (for the node to accept the stream, or for 'drain'), and the node must
// not run it past the gateway's deadline.
//
// The stream opens lazily, on the first call after none or after a break; the channel's own
// reconnect backoff (grpc-js) paces connection attempts: while it is in TRANSIENT_FAILURE a new
// stream fails at once, as a unary call would.

import {
  ChannelCredentials,
  Client,
  Metadata,
  type ClientDuplexStream,
  type ClientOptions,
  type ServiceError,
} from "@grpc/grpc-js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { assert } from "../base/assert.js";
import { ErrorCodes, LedgerError, type ErrorCode } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import { quote } from "../base/quote.js";
import {
  callStreamMessageBytesMax,
  gatewayStreamBytesInFlightMax,
  gatewayStreamCallsInFlightMax,
  grpcMessageBytesMax,
  timerDelayMsMax,
} from "./limits.js";
import {
  CallsResponseSchema,
  NodeService,
  ProposeRequestSchema,
  ReadRequestSchema,
  type CallError,
  type CallsResponse,
  type ProposeRequest,
  type ProposeResponse,
  type ReadRequest,
  type ReadResponse,
} from "../gen/ledger/node/v1/node_pb.js";
import { channelOptions, methodPath } from "./grpc-service.js";

export interface CallOptions {
  /** Absolute deadline in Date.now() milliseconds; the stream's default when unset. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** When the calls queued in a turn are written: after the turn's I/O callbacks, or at the end of the current microtask queue. */
export type FlushTiming = "immediate" | "microtask";

export interface NodeCallStreamOptions {
  address: string;
  /** Deadline of a call made without one. */
  defaultDeadlineMs: number;
  /** Calls in flight at most (queued, written or awaiting a reply); gatewayStreamCallsInFlightMax by default. */
  inFlightMax?: number;
  /** Request bytes of the calls in flight at most; gatewayStreamBytesInFlightMax by default (tests
   * lower it; below grpcMessageBytesMax, a request larger than it is always refused). */
  bytesInFlightMax?: number;
  flush?: FlushTiming;
  credentials?: ChannelCredentials;
  /** Merged over channelOptions (reconnect backoff, for instance). */
  channel?: ClientOptions;
  logger?: Logger;
}

type Kind = "propose" | "read";

interface PendingCall {
  id: number;
  kind: Kind;
  /** The encoded request, until the call is written. */
  request: Uint8Array | undefined;
  /** Request bytes, counted in bytesInFlight until the call settles. */
  size: number;
  deadlineMs: number;
  /** What was left of the deadline when the call was made (for the error message). */
  timeoutMs: number;
  /** timeout_ms as flush() writes it, between its sizing and framing passes. */
  sentTimeoutMs: number;
  resolve(value: ProposeResponse | ReadResponse): void;
  reject(error: LedgerError): void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

type Stream = ClientDuplexStream<Buffer, CallsResponse>;

const callsPath = methodPath(NodeService.method.calls);
// Batches are framed in flush() around requests encoded once, when the call was made; only the
// few header bytes of each NodeCall (id, the time left) are written then.
const passBytes = (b: Buffer): Buffer => b;
const decodeResponse = (b: Buffer): CallsResponse => fromBinary(CallsResponseSchema, b);

/** Bytes of the varint encoding of a non-negative integer below 2^53. */
function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    bytes++;
  }
  return bytes;
}

function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

/** NodeCall field tags: call_id (1, varint), timeout_ms (2, varint), propose (3) / read (4), length-delimited. */
const callIdTag = (1 << 3) | 0;
const timeoutTag = (2 << 3) | 0;
const kindTags: Record<Kind, number> = { propose: (3 << 3) | 2, read: (4 << 3) | 2 };
/** CallsRequest.calls (1, length-delimited). */
const callsTag = (1 << 3) | 2;
const uint32Max = 0xffff_ffff;

/** Bytes of a NodeCall's encoding. */
function nodeCallBytes(id: number, timeoutMs: number, requestBytes: number): number {
  return 1 + varintBytes(id) + 1 + varintBytes(timeoutMs) + 1 + varintBytes(requestBytes) + requestBytes;
}

/** Bytes a NodeCall adds to a CallsRequest (its tag and length too). */
function framedCallBytes(id: number, timeoutMs: number, requestBytes: number): number {
  const n = nodeCallBytes(id, timeoutMs, requestBytes);
  return 1 + varintBytes(n) + n;
}

/** One CallsRequest of the calls, each with the timeout_ms flush() chose for it. */
function frameBatch(calls: readonly PendingCall[], size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const c of calls) {
    const request = c.request;
    assert(request !== undefined, "a call is framed once");
    buf[pos++] = callsTag;
    pos = writeVarint(buf, pos, nodeCallBytes(c.id, c.sentTimeoutMs, request.length));
    buf[pos++] = callIdTag;
    pos = writeVarint(buf, pos, c.id);
    buf[pos++] = timeoutTag;
    pos = writeVarint(buf, pos, c.sentTimeoutMs);
    buf[pos++] = kindTags[c.kind];
    pos = writeVarint(buf, pos, request.length);
    buf.set(request, pos);
    pos += request.length;
  }
  assert(pos === size, "CallsRequest size computed exactly");
  return buf;
}

const codes = new Set<string>(ErrorCodes);

/** A node's CallError as the LedgerError the unary path would have produced. */
export function callErrorToLedgerError(e: CallError): LedgerError {
  const known = codes.has(e.code);
  const message = known ? e.message : `node answered with unknown code ${quote(e.code)}: ${e.message}`;
  return new LedgerError(known ? (e.code as ErrorCode) : "INTERNAL", message, { ...e.details });
}

export class NodeCallStream {
  private readonly client: Client;
  private readonly inFlightMax: number;
  private readonly bytesInFlightMax: number;
  private readonly schedule: (fn: () => void) => void;
  private stream: Stream | undefined;
  /** The node accepted the stream (response headers came); nothing is written before. */
  private up = false;
  /** write() last returned true, or 'drain' came since. */
  private writable = false;
  private flushScheduled = false;
  private closed = false;
  private nextId = 1;
  /** Every call awaiting its answer, by id. */
  private readonly pending = new Map<number, PendingCall>();
  /** The pending calls not yet written, in call order. */
  private readonly queued = new Set<PendingCall>();
  /** Request bytes of the pending calls. */
  private bytesInFlight = 0;
  /** Streams opened and stream messages written so far (tests and metrics). */
  streamsOpened = 0;
  batchesWritten = 0;

  constructor(private readonly o: NodeCallStreamOptions) {
    this.inFlightMax = o.inFlightMax ?? gatewayStreamCallsInFlightMax;
    this.bytesInFlightMax = o.bytesInFlightMax ?? gatewayStreamBytesInFlightMax;
    assert(
      this.inFlightMax >= 1 && this.bytesInFlightMax >= 1 && o.defaultDeadlineMs > 0,
      "NodeCallStream: bad tunables",
    );
    this.schedule = (o.flush ?? "immediate") === "immediate" ? (fn) => setImmediate(fn) : queueMicrotask;
    this.client = new Client(o.address, o.credentials ?? ChannelCredentials.createInsecure(), {
      ...channelOptions,
      ...o.channel,
    });
  }

  /** Whether a stream is open and accepted by the node (tests). */
  get connected(): boolean {
    return this.up;
  }

  /** Calls awaiting an answer (tests). */
  get inFlight(): number {
    return this.pending.size;
  }

  propose(request: ProposeRequest, options?: CallOptions): Promise<ProposeResponse> {
    return this.call("propose", toBinary(ProposeRequestSchema, request), options) as Promise<ProposeResponse>;
  }

  read(request: ReadRequest, options?: CallOptions): Promise<ReadResponse> {
    return this.call("read", toBinary(ReadRequestSchema, request), options) as Promise<ReadResponse>;
  }

  /** Fails every pending call with UNAVAILABLE, cancels the stream and closes the channel. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const stream = this.stream;
    this.detach();
    const why = `call stream to ${this.o.address} closed by the gateway`;
    this.failAll((written) =>
      written ? new LedgerError("UNAVAILABLE", `${why}; the call may have been applied`) : notSent("UNAVAILABLE", why),
    );
    stream?.end();
    stream?.cancel();
    this.client.close();
  }

  private call(kind: Kind, request: Uint8Array, options: CallOptions = {}): Promise<ProposeResponse | ReadResponse> {
    const refused = this.refusal(request, options);
    if (refused !== undefined) return Promise.reject(refused);
    const deadlineMs = options.deadlineMs ?? Date.now() + this.o.defaultDeadlineMs;
    const remainingMs = deadlineMs - Date.now();
    if (remainingMs <= 0)
      return Promise.reject(
        notSent("DEADLINE_EXCEEDED", `deadline passed before the call to ${this.o.address} was sent`),
      );
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const c: PendingCall = {
        id,
        kind,
        request,
        size: request.length,
        deadlineMs,
        timeoutMs: remainingMs,
        sentTimeoutMs: 0,
        resolve,
        reject,
        timer: setTimeout(() => this.deadlinePassed(c), Math.min(remainingMs, timerDelayMsMax)),
        signal: options.signal,
        onAbort: undefined,
      };
      if (c.signal !== undefined) {
        c.onAbort = () => this.expire(c, "CANCELLED", "Cancelled on client");
        c.signal.addEventListener("abort", c.onAbort, { once: true });
      }
      this.pending.set(id, c);
      this.bytesInFlight += c.size;
      this.queued.add(c);
      if (this.stream === undefined) this.open();
      this.scheduleFlush();
    });
  }

  private refusal(request: Uint8Array, options: CallOptions): LedgerError | undefined {
    if (this.closed) return notSent("UNAVAILABLE", `call stream to ${this.o.address} is closed`);
    if (options.signal?.aborted) return notSent("CANCELLED", "Cancelled on client");
    if (this.pending.size >= this.inFlightMax) {
      return notSent(
        "RESOURCE_EXHAUSTED",
        `${this.inFlightMax} calls already in flight to node ${this.o.address}; not sent, retry later`,
      );
    }
    // A call alone in a stream message must fit the gRPC limit (framing adds at most ~40 bytes).
    if (request.length > grpcMessageBytesMax - 64) {
      return notSent(
        "INVALID_ARGUMENT",
        `request of ${request.length} bytes exceeds the ${grpcMessageBytesMax}-byte message limit`,
      );
    }
    if (this.bytesInFlight + request.length > this.bytesInFlightMax) {
      return notSent(
        "RESOURCE_EXHAUSTED",
        `${this.bytesInFlight} request bytes already in flight to node ${this.o.address}; ${request.length} more would pass the ${this.bytesInFlightMax}-byte limit; not sent, retry later`,
      );
    }
    return undefined;
  }

  /**
   * Timers may fire a millisecond before Date.now() reaches the deadline, and a deadline beyond
   * timerDelayMsMax takes several timers: callers compare with Date.now().
   */
  private deadlinePassed(c: PendingCall): void {
    const leftMs = c.deadlineMs - Date.now();
    if (leftMs > 0) {
      c.timer = setTimeout(() => this.deadlinePassed(c), Math.min(leftMs, timerDelayMsMax));
      return;
    }
    this.expireAtDeadline(c);
  }

  private expireAtDeadline(c: PendingCall): void {
    this.expire(
      c,
      "DEADLINE_EXCEEDED",
      `deadline exceeded after ${Math.round(c.timeoutMs)} ms waiting for node ${this.o.address}`,
    );
  }

  /** A call's deadline or abort: it fails now; a reply that comes later is ignored. */
  private expire(c: PendingCall, code: ErrorCode, message: string): void {
    if (!this.settle(c)) return;
    // Not yet written: it never will be, so it certainly was not run.
    c.reject(c.request !== undefined ? notSent(code, message) : new LedgerError(code, message));
  }

  /** Removes the call from every structure; false when it was settled already. */
  private settle(c: PendingCall): boolean {
    if (this.pending.get(c.id) !== c) return false;
    this.pending.delete(c.id);
    this.bytesInFlight -= c.size;
    this.queued.delete(c);
    clearTimeout(c.timer);
    if (c.onAbort !== undefined) c.signal?.removeEventListener("abort", c.onAbort);
    return true;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.schedule(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Writes the queued calls: one stream message, or more when they pass callStreamMessageBytesMax.
   * Each call's timeout_ms is what is left of its deadline now; a call whose deadline passed
   * while it waited (its timer not yet run) fails as not sent instead.
   */
  private flush(): void {
    const stream = this.stream;
    if (stream === undefined || !this.up) return;
    while (this.writable && this.queued.size > 0) {
      const nowMs = Date.now();
      const batch: PendingCall[] = [];
      let bytes = 0;
      for (const c of this.queued) {
        assert(c.request !== undefined, "a queued call holds its request");
        const leftMs = c.deadlineMs - nowMs;
        if (leftMs < 1) {
          this.expireAtDeadline(c); // removes it from queued, which this loop tolerates
          continue;
        }
        // Rounded down, so the node's deadline is not later than ours (0 would mean its default).
        const timeoutMs = Math.min(uint32Max, Math.floor(leftMs));
        const framed = framedCallBytes(c.id, timeoutMs, c.request.length);
        if (batch.length > 0 && bytes + framed > callStreamMessageBytesMax) break;
        c.sentTimeoutMs = timeoutMs;
        batch.push(c);
        bytes += framed;
      }
      if (batch.length === 0) continue; // every queued call had expired
      const message = frameBatch(batch, bytes);
      for (const c of batch) {
        c.request = undefined;
        this.queued.delete(c);
      }
      this.batchesWritten++;
      // Written even when this returns false: grpc-js took it; later batches wait for 'drain'.
      this.writable = stream.write(message);
      if (this.stream !== stream) return; // the write failed the stream synchronously
    }
  }

  private open(): void {
    assert(this.stream === undefined && !this.closed, "one open stream at a time");
    this.up = false;
    this.writable = false;
    this.streamsOpened++;
    const stream: Stream = this.client.makeBidiStreamRequest(callsPath, passBytes, decodeResponse, new Metadata(), {});
    this.stream = stream;
    stream.on("metadata", () => {
      if (this.stream !== stream) return;
      this.up = true;
      this.writable = true;
      this.flush();
    });
    stream.on("drain", () => {
      if (this.stream !== stream) return;
      this.writable = true;
      this.flush();
    });
    stream.on("data", (response: CallsResponse) => this.answer(response));
    // A failed status comes as 'error' first; 'end' alone, after every reply was read, is a
    // clean end by the node. A bare 'close' (not expected before either) is treated as a break.
    stream.on("error", (e: ServiceError) => this.broken(stream, e));
    stream.on("end", () => this.broken(stream, "end"));
    stream.on("close", () => this.broken(stream, { code: 14, details: "stream closed", message: "stream closed" }));
  }

  private answer(response: CallsResponse): void {
    for (const reply of response.replies) {
      const c = this.pending.get(Number(reply.callId));
      if (c === undefined || !this.settle(c)) continue; // given up locally, or unknown
      const { kind } = reply;
      if (kind.case === "error") c.reject(callErrorToLedgerError(kind.value));
      else if (kind.case === c.kind) c.resolve(kind.value);
      else
        c.reject(
          new LedgerError(
            "INTERNAL",
            `node ${this.o.address} answered a ${c.kind} call with ${kind.case ?? "an empty reply"}`,
          ),
        );
    }
  }

  /** The stream ended or failed: every pending call fails with what is known about it. */
  private broken(stream: Stream, error: Pick<ServiceError, "code" | "details" | "message"> | "end"): void {
    if (this.stream !== stream) return;
    this.detach();
    stream.cancel();
    const address = this.o.address;
    if (error === "end") {
      // A clean end: the node answered what it accepted and ran nothing after (see the header).
      this.failAll(() =>
        notSent("UNAVAILABLE", `node ${address} ended the call stream (stopping?); not applied, retry`),
      );
    } else if (error.code === 14 /* UNAVAILABLE */ && error.details.startsWith("No connection established")) {
      this.failAll(() => notSent("UNAVAILABLE", error.details));
    } else {
      const why = error.details || error.message;
      this.failAll((written) =>
        written
          ? new LedgerError(
              "UNAVAILABLE",
              `call stream to node ${address} broke (${why}); the call may have been applied`,
            )
          : notSent("UNAVAILABLE", `call stream to node ${address} broke (${why}) before the call was sent`),
      );
    }
    this.o.logger?.debug(
      { node: address, err: error === "end" ? "ended by the node" : error.message },
      "call stream ended",
    );
  }

  private detach(): void {
    this.stream = undefined;
    this.up = false;
    this.writable = false;
  }

  private failAll(errorFor: (written: boolean) => LedgerError): void {
    for (const c of [...this.pending.values()]) {
      const written = c.request === undefined;
      this.settle(c);
      c.reject(errorFor(written));
    }
  }
}

/** A refusal that certainly sent nothing (retry-policy.ts reads details.applied). */
function notSent(code: ErrorCode, message: string): LedgerError {
  return new LedgerError(code, message, { applied: "no" });
}
