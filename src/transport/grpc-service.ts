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
import { fromBinary, toBinary, type DescMessage, type DescMethod, type DescService, type MessageShape } from "@bufbuild/protobuf";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { LedgerError, isLedgerError } from "../base/errors.js";
import { fromServiceError, toServiceError } from "./status.js";
import { grpcMessageBytesMax } from "../base/limits.js";

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
}

/** Typed unary handlers for every unary method of a service. */
export type UnaryImpl<S extends DescService> = {
  [K in UnaryKeys<S>]: (request: InputOf<MethodsOf<S>[K]>, ctx: HandlerContext) => Promise<OutputOf<MethodsOf<S>[K]>>;
};

export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

function definitionOf(method: DescMethod): MethodDefinition<unknown, unknown> {
  return {
    path: methodPath(method),
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (m: unknown) => Buffer.from(toBinary(method.input, m as never)),
    requestDeserialize: (b: Buffer) => decodeRequest(method.input, b),
    responseSerialize: (m: unknown) => Buffer.from(toBinary(method.output, m as never)),
    responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
  };
}

export function serviceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) def[m.localName] = definitionOf(m);
  return def as ServiceDefinition;
}

/**
 * Decodes a request, turning a decode failure into INVALID_ARGUMENT that names the field when
 * it can (protobuf-es says only "not valid for encoding utf-8").
 */
export function decodeRequest<D extends DescMessage>(schema: D, bytes: Uint8Array): MessageShape<D> {
  try {
    return fromBinary(schema, bytes);
  } catch (e) {
    const field = findInvalidUtf8Field(schema, bytes);
    const why = field ? `${field} is not valid UTF-8` : `request is not a valid ${schema.typeName}: ${(e as Error).message}`;
    throw new LedgerError("INVALID_ARGUMENT", why);
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function findInvalidUtf8Field(schema: DescMessage, bytes: Uint8Array): string | undefined {
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [no, wireType] = reader.tag();
      if (wireType !== WireType.LengthDelimited) {
        reader.skip(wireType, no);
        continue;
      }
      const value = reader.bytes();
      const field = schema.fields.find((f) => f.number === no);
      if (field?.fieldKind !== "scalar" || field.scalar !== 9 /* STRING */) continue;
      try {
        strictUtf8.decode(value);
      } catch {
        return field.name;
      }
    }
  } catch {
    // Malformed beyond the UTF-8 question: the caller reports the generic error.
  }
  return undefined;
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
 * map per service).
 */
export function addUnaryService<S extends DescService>(
  server: Server,
  service: S,
  impl: UnaryImpl<S>,
  onInternalError: (method: string, error: unknown) => void,
  observe?: CallObserver,
  streamHandlers: Record<string, UntypedHandleCall> = {},
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
      const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? Number(deadline) : undefined;
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
      fn(call.request, ctx).then(
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
  server.addService(serviceDefinition(service), handlers);
}

/** Default channel options: bounded message sizes, keepalive so dead peers are noticed. */
export const channelOptions: ClientOptions = {
  "grpc.max_receive_message_length": grpcMessageBytesMax,
  "grpc.max_send_message_length": grpcMessageBytesMax,
  "grpc.keepalive_time_ms": 30_000,
};

export type UnaryClient<S extends DescService> = {
  [K in UnaryKeys<S>]: (request: InputOf<MethodsOf<S>[K]>, options?: { deadlineMs?: number; signal?: AbortSignal }) => Promise<OutputOf<MethodsOf<S>[K]>>;
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
