// The operations HTTP server of a node or the gateway (`--metrics-port`): a fixed table of GET
// routes (/metrics, and on the gateway the status page and its JSON). Plain node:http: a route
// table this small needs no framework.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../base/logger.js";
import { opsHttpHeadersTimeoutMs, opsHttpRequestTimeoutMs } from "./limits.js";

export interface HttpReply {
  status?: number;
  contentType: string;
  body: string | Uint8Array;
}

/** A GET handler; a thrown error becomes a 500 with a one-line text body (and a log line). */
export type HttpRoute = (request: IncomingMessage) => Promise<HttpReply> | HttpReply;

export interface OpsHttpServer {
  /** host:port actually bound. */
  address: string;
  port: number;
  close(): Promise<void>;
}

export async function startOpsHttpServer(options: {
  host: string;
  port: number;
  routes: Record<string, HttpRoute>;
  logger: Logger;
}): Promise<OpsHttpServer> {
  const { routes, logger } = options;
  const server: Server = createServer(
    { requestTimeout: opsHttpRequestTimeoutMs, headersTimeout: opsHttpHeadersTimeoutMs },
    (req, res) => {
      // handle() answers every failure itself; this catch is the last guard, since an unhandled
      // rejection would end the whole process (the gateway, or a node serving /metrics).
      handle(req, res, routes, logger).catch((e: unknown) => {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, "operations HTTP request failed");
        try {
          send(res, {
            status: 500,
            contentType: "text/plain; charset=utf-8",
            body: "internal error; see the server log\n",
          });
        } catch {
          res.destroy();
        }
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    address: `${hostPart}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, HttpRoute>,
  logger: Logger,
): Promise<void> {
  // The request target is the client's text: Node's parser lets through targets ("//[") that are
  // not URLs.
  let path: string;
  try {
    path = new URL(req.url ?? "/", "http://localhost").pathname;
  } catch {
    return send(res, {
      status: 400,
      contentType: "text/plain; charset=utf-8",
      body: "bad request: the request target is not a valid URL path\n",
    });
  }
  const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (req.method !== "GET" && req.method !== "HEAD")
    return send(
      res,
      { status: 405, contentType: "text/plain; charset=utf-8", body: `${req.method ?? "?"} not allowed; GET only\n` },
      { Allow: "GET, HEAD" },
    );
  if (route === undefined)
    return send(res, {
      status: 404,
      contentType: "text/plain; charset=utf-8",
      body: `no such page: ${path}; try ${Object.keys(routes).join(", ")}\n`,
    });
  try {
    send(res, await route(req));
  } catch (e) {
    logger.error({ path, err: e instanceof Error ? e.message : String(e) }, "operations HTTP request failed");
    send(res, {
      status: 500,
      contentType: "text/plain; charset=utf-8",
      body: `internal error serving ${path}; see the server log\n`,
    });
  }
}

function send(res: ServerResponse, reply: HttpReply, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status ?? 200, { "Content-Type": reply.contentType, "Cache-Control": "no-store", ...headers });
  res.end(res.req.method === "HEAD" ? undefined : reply.body);
}

/** Describes a listen failure in one line ("listen EADDRINUSE: address already in use 127.0.0.1:9100"). */
export function describeListenError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
