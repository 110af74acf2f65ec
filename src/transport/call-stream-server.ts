// The node's end of NodeService/Calls: each NodeCall on a gateway's stream runs exactly what the
// unary Propose or Read with the same request runs (the same impl, a HandlerContext with the
// call's deadline), and the replies of one event-loop turn go back as ONE CallsResponse.
//
// Contract with the client (src/transport/call-stream-client.ts):
// - Response headers are sent at once: the client writes nothing before they come.
// - Every refusal that runs nothing carries details.applied = "no": too many calls in flight on
//   the stream, a call without a kind, a node that is stopping. (Not a call reusing the id of
//   one still running: its reply can only be matched to that running call.)
// - The node ends a stream cleanly (status OK) only once every call it accepted is answered, and
//   runs nothing that arrives after: a call still unanswered at a clean end was not run.
// - Backpressure: while the client does not read (write() returned false), replies wait and the
//   stream is not read either, so HTTP/2 flow control holds the client back; the replies waiting
//   are bounded by the in-flight limit plus one incoming batch's refusals, as a batch of more
//   calls than the in-flight limit (never sent by an honest client, whose own bound matches)
//   ends the stream with RESOURCE_EXHAUSTED instead of a refusal per call.
// - A call's signal aborts at its deadline (timeout_ms), as a unary call's does, or when the
//   stream ends.

import { Metadata, type ServerDuplexStream, type UntypedHandleCall } from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { LedgerError, isLedgerError } from "../base/errors.js";
import type { Logger } from "../base/logger.js";
import {
  callStreamMessageBytesMax,
  grpcMessageBytesMax,
  nodeCallDeadlineMsDefault,
  nodeStreamCallsInFlightMax,
  timerDelayMsMax,
} from "./limits.js";
import {
  CallErrorSchema,
  NodeReplySchema,
  type CallsRequest,
  type CallsResponse,
  type NodeCall,
  type NodeReply,
  type NodeService,
  type ReadRequest,
} from "../gen/ledger/node/v1/node_pb.js";
import type { CallObserver, HandlerContext, UnaryImpl } from "./grpc-service.js";
import { toServiceError } from "./status.js";
import { UndecodableRequest } from "./strict-decoding.js";

export interface CallStreamOptions {
  /** The unary handlers whose logic every call runs. */
  impl: Pick<UnaryImpl<typeof NodeService>, "propose" | "read">;
  logger: Logger;
  /** Told of every call that is not Propose's or Read's LedgerError (a bug): logged by the caller. */
  onInternalError: (method: string, error: unknown) => void;
  observe?: CallObserver;
  /** nodeStreamCallsInFlightMax by default. */
  inFlightMax?: number;
}

export interface CallStreamStats {
  streamsOpened: number;
  /** CallsRequest messages received. */
  batchesReceived: number;
  /** CallsResponse messages written. */
  batchesWritten: number;
  /** Times a stream stopped reading because its client did not read its replies. */
  readPauses: number;
}

export interface CallStreamService {
  /** The raw grpc-js handler to register as NodeService's `calls`. */
  handler: UntypedHandleCall;
  /**
   * The node is stopping: new calls get UNAVAILABLE (applied=no) and every stream ends once its
   * calls are answered, so no stream holds the server's shutdown.
   */
  stopAccepting(): void;
  /** Streams open now. */
  readonly openStreams: number;
  stats: CallStreamStats;
}

const methodNames = { propose: "Propose", read: "Read" } as const;

export function createCallStreamService(o: CallStreamOptions): CallStreamService {
  const streams = new Set<CallStream>();
  const stats: CallStreamStats = { streamsOpened: 0, batchesReceived: 0, batchesWritten: 0, readPauses: 0 };
  let stopping = false;
  const handler = (call: ServerDuplexStream<CallsRequest, CallsResponse>) => {
    stats.streamsOpened++;
    const stream = new CallStream(
      call,
      o,
      stats,
      () => stopping,
      () => streams.delete(stream),
    );
    streams.add(stream);
    stream.start();
  };
  return {
    handler: handler as UntypedHandleCall,
    stopAccepting() {
      stopping = true;
      for (const s of streams) s.endIfDone();
    },
    get openStreams() {
      return streams.size;
    },
    stats,
  };
}

class CallStream {
  private readonly inFlightMax: number;
  /** Ids of the calls being run. */
  private readonly running = new Set<bigint>();
  /** The running calls whose handler took their signal, aborted when the stream ends. */
  private readonly signalled = new Set<CallContext>();
  private readonly peer: string;
  private replies: NodeReply[] = [];
  private flushScheduled = false;
  private writable = true;
  private clientEnded = false;
  /** end() was called or the stream failed: nothing more is run or written. */
  private finished = false;

  constructor(
    private readonly call: ServerDuplexStream<CallsRequest, CallsResponse>,
    private readonly o: CallStreamOptions,
    private readonly stats: CallStreamStats,
    private readonly stopping: () => boolean,
    private readonly onFinished: () => void,
  ) {
    this.inFlightMax = o.inFlightMax ?? nodeStreamCallsInFlightMax;
    this.peer = call.getPeer();
  }

  start(): void {
    // Headers at once: the client holds its first batch until they come (call-stream-client.ts).
    this.call.sendMetadata(new Metadata());
    this.call.on("data", (request: CallsRequest) => this.receive(request));
    this.call.on("end", () => {
      this.clientEnded = true;
      this.endIfDone();
    });
    this.call.on("drain", () => {
      this.writable = true;
      this.call.resume();
      this.flush();
    });
    this.call.on("cancelled", () => this.finish());
    this.call.on("error", (e: Error) => {
      this.o.logger.debug({ peer: this.peer, err: e.message }, "call stream failed");
      this.finish();
    });
  }

  /** Ends the stream if the client or a stop asked and every accepted call is answered and written. */
  endIfDone(): void {
    if (this.finished || this.running.size > 0 || this.replies.length > 0) return;
    if (!this.clientEnded && !this.stopping()) return;
    this.finish();
    this.call.end();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.replies = [];
    for (const c of this.signalled) c.abort();
    this.signalled.clear();
    this.onFinished();
  }

  private receive(request: CallsRequest): void {
    if (this.finished) return; // arrived after the end: not run (see the contract above)
    if ((request as unknown) instanceof UndecodableRequest) {
      // Only on a server built without strictServerOptions, whose interceptor answers these.
      this.finish();
      this.call.emit("error", toServiceError((request as unknown as UndecodableRequest).error));
      return;
    }
    this.stats.batchesReceived++;
    if (request.calls.length > this.inFlightMax) {
      // More than could ever run at once: a refusal each would only multiply the bytes sent.
      const message = `a CallsRequest of ${request.calls.length} calls exceeds the ${this.inFlightMax} calls a stream may have in flight (nodeStreamCallsInFlightMax); none was run`;
      this.o.logger.warn(
        { peer: this.peer, calls: request.calls.length, limit: this.inFlightMax },
        "call stream ended: too many calls in one message",
      );
      this.finish();
      // grpc-js sends an 'error' emitted on a server stream as the stream's status.
      this.call.emit("error", toServiceError(new LedgerError("RESOURCE_EXHAUSTED", message)));
      return;
    }
    for (let i = 0; i < request.calls.length; i++) this.accept(request.calls[i]!, i);
  }

  private accept(c: NodeCall, i: number): void {
    const kind = c.kind.case;
    const refuse = (
      code: LedgerError["code"],
      message: string,
      details: Record<string, string> = { applied: "no" },
    ): void => {
      if (kind !== undefined) this.o.observe?.(methodNames[kind], code, 0);
      this.reply(errorReply(c.callId, new LedgerError(code, message, details)));
    };
    if (kind === undefined) return refuse("INVALID_ARGUMENT", `calls[${i}].kind must be set (propose or read)`);
    if (this.running.has(c.callId)) {
      // Not marked applied=no: the client can only match this reply to the call that is running.
      return refuse("INVALID_ARGUMENT", `calls[${i}].call_id ${c.callId} is already in flight on this stream`, {});
    }
    if (this.stopping()) return refuse("UNAVAILABLE", "the node is shutting down; not applied, retry on another node");
    if (this.running.size >= this.inFlightMax) {
      return refuse(
        "RESOURCE_EXHAUSTED",
        `${this.inFlightMax} calls already in flight on this stream; not applied, retry later`,
      );
    }
    this.run(c, kind);
  }

  /**
   * Runs one call. Its signal aborts at the call's deadline or when the stream ends (the
   * protocol has no per-call cancel); see CallContext for why it is made only on demand.
   */
  private run(c: NodeCall, kind: "propose" | "read"): void {
    const id = c.callId;
    this.running.add(id);
    const started = performance.now();
    const ctx = new CallContext(
      Date.now() + (c.timeoutMs > 0 ? c.timeoutMs : nodeCallDeadlineMsDefault),
      this.peer,
      this,
    );
    const done = (code: string, reply: NodeReply): void => {
      this.o.observe?.(methodNames[kind], code, (performance.now() - started) / 1000);
      ctx.settled();
      this.running.delete(id);
      this.reply(reply);
      this.endIfDone(); // a stop or a client's end may have waited for this call
    };
    let answer: Promise<NodeReply>;
    try {
      const k = c.kind;
      answer =
        k.case === "propose"
          ? this.o.impl
              .propose(k.value, ctx)
              .then((value) => create(NodeReplySchema, { callId: id, kind: { case: "propose", value } }))
          : this.o.impl
              .read(k.value as ReadRequest, ctx)
              .then((value) => create(NodeReplySchema, { callId: id, kind: { case: "read", value } }));
    } catch (e) {
      answer = Promise.reject(e); // a handler that threw instead of rejecting
    }
    answer.then(
      (reply) => done("OK", reply),
      (error: unknown) => {
        if (isLedgerError(error)) return done(error.code, errorReply(id, error));
        this.o.onInternalError(methodNames[kind], error);
        done("INTERNAL", errorReply(id, new LedgerError("INTERNAL", "internal error; see the server log")));
      },
    );
  }

  private reply(reply: NodeReply): void {
    if (this.finished) return; // the client is gone
    this.replies.push(reply);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes the waiting replies: one message per callStreamMessageBytesMax, while the client reads. */
  private flush(): void {
    while (!this.finished && this.writable && this.replies.length > 0) {
      let bytes = 0;
      let n = 0;
      for (; n < this.replies.length; n++) {
        const size = replyBytesUpperBound(this.replies[n]!);
        if (size > grpcMessageBytesMax - 64) this.replies[n] = tooLarge(this.replies[n]!, size);
        if (n > 0 && bytes + size > callStreamMessageBytesMax) break;
        bytes += size;
      }
      const batch = this.replies.splice(0, n);
      this.stats.batchesWritten++;
      this.writable = this.call.write({ $typeName: "ledger.node.v1.CallsResponse", replies: batch });
      // Stop reading while the client does not: its calls wait in HTTP/2 flow control, not here.
      if (!this.writable) {
        this.stats.readPauses++;
        this.call.pause();
      }
    }
    this.endIfDone();
  }

  /** A running call's handler took its signal: it must abort if the stream ends first. */
  signalTaken(c: CallContext): boolean {
    if (this.finished) return false;
    this.signalled.add(c);
    return true;
  }

  signalReleased(c: CallContext): void {
    this.signalled.delete(c);
  }
}

/**
 * One running call's HandlerContext. Its AbortController, and the timer that aborts it at the
 * deadline, are made only when the handler first takes the signal (a forwarded proposal): most
 * calls never do, and an AbortController alone costs tens of microseconds (as on the unary
 * path, grpc-service.ts). A handler that never took the signal cannot observe it: no abort is lost.
 */
class CallContext implements HandlerContext {
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    readonly deadlineMs: number,
    readonly peer: string,
    private readonly stream: CallStream,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      // As in the unary path, a call already answered is not aborted; one whose stream ended is.
      if (this.done) return this.controller.signal;
      if (this.stream.signalTaken(this)) this.armDeadline();
      else this.controller.abort();
    }
    return this.controller.signal;
  }

  /** Aborts the signal, if it was taken (the deadline passed or the stream ended). */
  abort(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
  }

  /** The handler settled: no abort is due any more. */
  settled(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.controller !== undefined) this.stream.signalReleased(this);
  }

  /** Timers may fire early, and a deadline beyond timerDelayMsMax takes several: compare with Date.now(). */
  private armDeadline(): void {
    const leftMs = this.deadlineMs - Date.now();
    if (leftMs <= 0) {
      this.timer = undefined;
      this.stream.signalReleased(this);
      this.controller?.abort();
      return;
    }
    this.timer = setTimeout(() => this.armDeadline(), Math.min(leftMs, timerDelayMsMax));
  }
}

function errorReply(callId: bigint, e: LedgerError): NodeReply {
  return create(NodeReplySchema, {
    callId,
    kind: {
      case: "error",
      value: create(CallErrorSchema, { code: e.code, message: e.message, details: { ...e.details } }),
    },
  });
}

/**
 * Bytes a reply encodes to, at most: its byte fields, strings at three bytes a character (UTF-16
 * to UTF-8), and a generous allowance for tags, lengths and integers.
 */
function replyBytesUpperBound(r: NodeReply): number {
  const overhead = 64;
  switch (r.kind.case) {
    case "propose": {
      const v = r.kind.value;
      let n = overhead + v.result.length + v.leaderNodeId.length * 3;
      for (const b of v.results) n += b.length + 6;
      return n;
    }
    case "read":
      return overhead + r.kind.value.result.length;
    case "error": {
      const v = r.kind.value;
      let n = overhead + (v.code.length + v.message.length) * 3;
      for (const [k, val] of Object.entries(v.details)) n += 12 + (k.length + val.length) * 3;
      return n;
    }
    default:
      return overhead;
  }
}

/** What a reply too large for one gRPC message becomes (as grpc-js would refuse to send it). */
function tooLarge(r: NodeReply, bytes: number): NodeReply {
  return errorReply(
    r.callId,
    new LedgerError(
      "RESOURCE_EXHAUSTED",
      `the reply of about ${bytes} bytes exceeds the ${grpcMessageBytesMax}-byte message limit`,
    ),
  );
}
