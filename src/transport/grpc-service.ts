// Bridges protobuf-es service descriptors to grpc-js (protoc-gen-es emits descriptors but no
// grpc-js definitions). Paths are /package.Service/Method; messages go through toBinary /
// fromBinary. Unary methods get typed promise-returning handlers and clients; streaming methods
// are exposed as raw grpc-js handlers for the transport code that needs them.

import {
  ChannelCredentials,
  Client,
  type CallOptions as GrpcCallOptions,
  type Server,
  type ServerUnaryCall,
  type ServiceDefinition,
  type MethodDefinition,
  type sendUnaryData,
  type UntypedHandleCall,
  type ClientOptions,
} from "@grpc/grpc-js";
import {
  fromBinary,
  ScalarType,
  toBinary,
  type DescMessage,
  type DescMethod,
  type DescService,
  type MessageShape,
} from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { LedgerError, isLedgerError } from "../base/errors.js";
import { fromServiceError, toServiceError } from "./status.js";
import { grpcMessageBytesMax, requestNestingMax } from "./limits.js";
import { quote } from "../base/quote.js";
import { UndecodableRequest, invalidRequest } from "./strict-decoding.js";
import { checkWire } from "./wire-check.js";

type MethodsOf<S extends DescService> = S extends { method: infer M } ? M : never;
type UnaryKeys<S extends DescService> = {
  [K in keyof MethodsOf<S>]: MethodsOf<S>[K] extends { methodKind: "unary" } ? K : never;
}[keyof MethodsOf<S>];
type InputOf<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type OutputOf<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;

export interface HandlerContext {
  /** Absolute deadline in Date.now() milliseconds, or undefined when the caller set none. */
  deadlineMs: number | undefined;
  /** Aborted when the caller cancels or the deadline passes. */
  signal: AbortSignal;
  peer: string;
  /**
   * Paths of the request's string fields that were not valid UTF-8 ("transactions[1].description"),
   * decoded with U+FFFD. Only a method registered as checking them itself (addUnaryService's
   * `checksUtf8Itself`) is called with any; every other method's call fails with
   * INVALID_ARGUMENT before its handler runs. Absent means none.
   */
  invalidUtf8Fields?: readonly string[];
}

/** Typed unary handlers for every unary method of a service. */
export type UnaryImpl<S extends DescService> = {
  [K in UnaryKeys<S>]: (request: InputOf<MethodsOf<S>[K]>, ctx: HandlerContext) => Promise<OutputOf<MethodsOf<S>[K]>>;
};

export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** `handlerAnswers`: an undecodable request of this (unary) method goes to addUnaryService's
 * handler wrapper, which answers it, instead of being answered by the server interceptor. */
function definitionOf(method: DescMethod, handlerAnswers = false): MethodDefinition<unknown, unknown> {
  return {
    path: methodPath(method),
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (m: unknown) => Buffer.from(toBinary(method.input, m as never)),
    // Never throws (grpc-js would answer INTERNAL): bad bytes give an UndecodableRequest, which
    // the server interceptor (strict-decoding.ts) or addUnaryService's wrapper answers.
    requestDeserialize: (b: Buffer) => deserializeRequest(method.input, b, handlerAnswers),
    responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output, m as never)),
    responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
  };
}

/** grpc-js definitions of a service's methods. For a request that does not decode their
 * deserializers return an UndecodableRequest, which a server built with strictServerOptions()
 * answers with INVALID_ARGUMENT before any handler sees it. */
export function serviceDefinition(service: DescService): ServiceDefinition {
  return definitionsOf(service, false);
}

function definitionsOf(service: DescService, unaryHandlersAnswer: boolean): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) def[m.localName] = definitionOf(m, unaryHandlersAnswer && m.methodKind === "unary");
  return def as ServiceDefinition;
}

/**
 * Decodes a request, turning a decode failure into INVALID_ARGUMENT that names the field when
 * it can (protobuf-es says only "not valid for encoding utf-8"), by its path from the request
 * ("description", "transactions[1].description"). The wire format is checked first
 * (wire-check.ts): protobuf-es alone would read a field sent with the wrong wire type.
 */
export function decodeRequest<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  const decoded = deserializeRequest(schema, bytes, false);
  if (decoded instanceof UndecodableRequest) throw decoded.error;
  return decoded as MessageShape<D>;
}

/** The server side of every method: never throws (see UndecodableRequest). */
function deserializeRequest(schema: DescMessage, bytes: Uint8Array, handlerAnswers: boolean): unknown {
  const problem = checkWire(schema, bytes);
  if (problem !== undefined)
    return new UndecodableRequest(invalidRequest(schema.typeName, problem), undefined, [], handlerAnswers);
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    return decodeLeniently(schema, bytes, e, handlerAnswers);
  }
}

function decodeLeniently(
  schema: DescMessage,
  bytes: Uint8Array,
  strictError: unknown,
  handlerAnswers: boolean,
): UndecodableRequest {
  const invalid: string[] = [];
  let message: unknown;
  try {
    message = fromBinary(schema, replaceInvalidUtf8(schema, bytes, "", invalid, 0));
  } catch {
    // Malformed beyond the UTF-8 question: the generic error below.
  }
  const first = invalid[0];
  if (message === undefined || first === undefined) {
    return new UndecodableRequest(
      invalidRequest(schema.typeName, quote(String((strictError as Error)?.message ?? strictError))),
      undefined,
      [],
      handlerAnswers,
    );
  }
  const more = invalid.length > 1 ? ` (and ${invalid.length - 1} more field${invalid.length === 2 ? "" : "s"})` : "";
  return new UndecodableRequest(
    new LedgerError("INVALID_ARGUMENT", `${first} is not valid UTF-8${more}`),
    message,
    invalid,
    handlerAnswers,
  );
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * A copy of a message's bytes with every string field that is not valid UTF-8 re-encoded with
 * U+FFFD in its place, recursing into message fields (single and repeated); the path of each
 * such field is appended to `invalid`. Everything else is copied as it came (maps and groups
 * are not entered: a bad string there leaves the request undecodable). Throws on bytes that
 * are not a message at all, or nest deeper than requestNestingMax.
 */
function replaceInvalidUtf8(
  schema: DescMessage,
  bytes: Uint8Array,
  prefix: string,
  invalid: string[],
  depth: number,
): Uint8Array {
  if (depth > requestNestingMax) throw new Error(`messages nest deeper than ${requestNestingMax}`);
  const reader = new BinaryReader(bytes);
  const writer = new BinaryWriter();
  const seen = new Map<number, number>();
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const [no, wireType] = reader.tag();
    const field = schema.fields.find((f) => f.number === no);
    if (wireType !== WireType.LengthDelimited || field === undefined) {
      reader.skip(wireType, no);
      writer.raw(bytes.subarray(start, reader.pos));
      continue;
    }
    const value = reader.bytes();
    const index = seen.get(no) ?? 0;
    seen.set(no, index + 1);
    const isString =
      (field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")) &&
      field.scalar === ScalarType.STRING;
    const nested =
      field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")
        ? field.message
        : undefined;
    const path = field.fieldKind === "list" ? `${prefix}${field.name}[${index}]` : `${prefix}${field.name}`;
    if (isString && !isValidUtf8(value)) {
      invalid.push(path);
      writer.tag(no, WireType.LengthDelimited).string(lenientUtf8.decode(value));
    } else if (nested !== undefined) {
      writer.tag(no, WireType.LengthDelimited).bytes(replaceInvalidUtf8(nested, value, `${path}.`, invalid, depth + 1));
    } else {
      writer.raw(bytes.subarray(start, reader.pos));
    }
  }
  return writer.finish();
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Told of every finished unary call: the method's name, the status sent (our code, "OK" on
 * success, so NOT_LEADER stays distinct from UNAVAILABLE) and the seconds it took. Metrics and
 * the status page's request rates hang here.
 */
export type CallObserver = (method: string, code: string, seconds: number) => void;

/**
 * Registers typed unary handlers; errors become statuses in one place. `streamHandlers` are raw
 * grpc-js handlers of the service's streaming methods, by local name (grpc-js takes one handler
 * map per service). `checksUtf8Itself` names (by local name) the methods whose handlers take a
 * request with invalid UTF-8 and judge it per field (HandlerContext.invalidUtf8Fields), e.g. to
 * fail one item of a batch alone.
 */
export function addUnaryService<S extends DescService>(
  server: Server,
  service: S,
  impl: UnaryImpl<S>,
  onInternalError: (method: string, error: unknown) => void,
  observe?: CallObserver,
  streamHandlers: Record<string, UntypedHandleCall> = {},
  checksUtf8Itself: readonly string[] = [],
): void {
  const handlers: Record<string, UntypedHandleCall> = { ...streamHandlers };
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const fn = (impl as Record<string, (req: unknown, ctx: HandlerContext) => Promise<unknown>>)[method.localName];
    if (!fn) throw new Error(`addUnaryService: no handler for ${method.name}`);
    handlers[method.localName] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      // grpc-js emits "cancelled" for every call, answered ones too, and an AbortController
      // with its signal and the abort's DOMException cost about 40 us per call (a profile of
      // the benchmark). So the controller is made only when a handler asks for the signal,
      // and a call that has been answered is not aborted.
      let controller: AbortController | undefined;
      let cancelled = false;
      let answered = false;
      call.on("cancelled", () => {
        if (answered) return;
        cancelled = true;
        controller?.abort();
      });
      const deadline = call.getDeadline();
      const deadlineMs =
        deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? Number(deadline) : undefined;
      const ctx: HandlerContext = {
        deadlineMs,
        get signal(): AbortSignal {
          if (controller === undefined) {
            controller = new AbortController();
            if (cancelled) controller.abort();
          }
          return controller.signal;
        },
        get peer(): string {
          return call.getPeer();
        },
      };
      const started = observe === undefined ? 0 : performance.now();
      const done = (code: string): void => {
        answered = true;
        observe?.(method.name, code, (performance.now() - started) / 1000);
      };
      let request = call.request;
      if (request instanceof UndecodableRequest) {
        if (request.message === undefined || !checksUtf8Itself.includes(method.localName)) {
          done(request.error.code);
          return callback(toServiceError(request.error));
        }
        ctx.invalidUtf8Fields = request.invalidUtf8Fields;
        request = request.message;
      }
      fn(request, ctx).then(
        (response) => {
          done("OK");
          callback(null, response);
        },
        (error: unknown) => {
          if (isLedgerError(error)) {
            done(error.code);
            return callback(toServiceError(error));
          }
          onInternalError(method.name, error);
          done("INTERNAL");
          callback(toServiceError(new LedgerError("INTERNAL", "internal error; see the server log")));
        },
      );
    };
  }
  server.addService(definitionsOf(service, true), handlers);
}

/** Default channel options: bounded message sizes, keepalive so dead peers are noticed. */
export const channelOptions: ClientOptions = {
  "grpc.max_receive_message_length": grpcMessageBytesMax,
  "grpc.max_send_message_length": grpcMessageBytesMax,
  "grpc.keepalive_time_ms": 30_000,
};

export type UnaryClient<S extends DescService> = {
  [K in UnaryKeys<S>]: (
    request: InputOf<MethodsOf<S>[K]>,
    options?: { deadlineMs?: number; signal?: AbortSignal },
  ) => Promise<OutputOf<MethodsOf<S>[K]>>;
} & { close(): void; raw: Client };

/** A promise-based client; every failure rejects with a LedgerError carrying the server's code. */
export function createUnaryClient<S extends DescService>(
  service: S,
  address: string,
  options: { defaultDeadlineMs: number; credentials?: ChannelCredentials; channel?: ClientOptions },
): UnaryClient<S> {
  const raw = new Client(address, options.credentials ?? ChannelCredentials.createInsecure(), {
    ...channelOptions,
    ...options.channel,
  });
  const client: Record<string, unknown> = { raw, close: () => raw.close() };
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const def = definitionOf(method);
    client[method.localName] = (request: unknown, callOpts?: { deadlineMs?: number; signal?: AbortSignal }) =>
      new Promise((resolve, reject) => {
        const grpcOpts: GrpcCallOptions = {
          deadline: new Date(callOpts?.deadlineMs ?? Date.now() + options.defaultDeadlineMs),
        };
        const call = raw.makeUnaryRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          request,
          grpcOpts,
          (err, value) => (err ? reject(fromServiceError(err)) : resolve(value)),
        );
        callOpts?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
      });
  }
  return client as UnaryClient<S>;
}
