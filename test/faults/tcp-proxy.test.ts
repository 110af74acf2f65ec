// The fault proxy against a loopback echo server: it forwards, cuts (old and new connections),
// delays without reordering, and recovers.

import { afterEach, describe, expect, it } from "vitest";
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { TcpProxy } from "../support/tcp-proxy.js";

let echo: Server | undefined;
let proxy: TcpProxy | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
  proxy = undefined;
  await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
  echo = undefined;
});

async function startEcho(): Promise<string> {
  echo = createServer((s) => {
    s.on("error", () => undefined); // the proxy resets connections on purpose
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo!.listen({ host: "127.0.0.1", port: 0 }, () => resolve()));
  return `127.0.0.1:${(echo.address() as AddressInfo).port}`;
}

/** Connects through the proxy; resolves with the socket and a collector of what comes back. */
async function dial(address: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const [host, port] = [address.split(":")[0]!, Number(address.split(":")[1])];
  const socket = connect({ host, port });
  sockets.push(socket);
  let data = "";
  socket.on("data", (b: Buffer) => (data += b.toString()));
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => data, closed };
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("TcpProxy", () => {
  it("forwards bytes both ways", async () => {
    proxy = await TcpProxy.start(await startEcho());
    const c = await dial(proxy.address);
    c.socket.write("hello");
    await until("the echo", () => c.received() === "hello");
    expect(proxy.accepted).toBe(1);
  });

  it("cut resets open connections and refuses new ones until the link passes again", async () => {
    proxy = await TcpProxy.start(await startEcho());
    const open = await dial(proxy.address);
    proxy.setMode({ kind: "cut" });
    await open.closed;
    // A new connection is accepted by the kernel and reset by the proxy at once.
    const refused = connect({ host: "127.0.0.1", port: Number(proxy.address.split(":")[1]) });
    sockets.push(refused);
    let echoed = "";
    refused.on("data", (b: Buffer) => (echoed += b.toString()));
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      refused.once("error", resolve);
      refused.once("close", () => resolve(undefined));
      refused.write("lost");
    });
    expect(error?.code).toBe("ECONNRESET");
    expect(echoed).toBe("");
    expect(proxy.resets).toBeGreaterThanOrEqual(1);

    proxy.setMode({ kind: "pass" });
    const again = await dial(proxy.address);
    again.socket.write("back");
    await until("the echo after healing", () => again.received() === "back");
  });

  it("delays each chunk by at least the delay and never reorders them", async () => {
    proxy = await TcpProxy.start(await startEcho());
    const c = await dial(proxy.address);
    proxy.setMode({ kind: "pass", delayMs: 150 });
    const sent = Date.now();
    c.socket.write("a");
    await until("the first chunk held by the proxy", () => proxy!.heldBytes > 0);
    // The delay shrinks: the later chunk must still arrive after the earlier one.
    proxy.setMode({ kind: "pass" });
    c.socket.write("b");
    await until("both chunks", () => c.received().length === 2);
    // Through the proxy twice (there and back): at least one delay.
    expect(Date.now() - sent).toBeGreaterThanOrEqual(150);
    expect(c.received()).toBe("ab");
  });

  it("limits the rate: 64 KiB at 128 KiB/s takes at least about half a second to come back", async () => {
    proxy = await TcpProxy.start(await startEcho());
    const c = await dial(proxy.address);
    proxy.setMode({ kind: "pass", bytesPerSecond: 128 * 1024 });
    const sent = Date.now();
    c.socket.write(Buffer.alloc(64 * 1024, 97));
    await until("all bytes echoed", () => c.received().length === 64 * 1024, 10_000);
    // The first chunk leaves at once; the rest is paced (timers may fire a little early).
    expect(Date.now() - sent).toBeGreaterThanOrEqual(400);
  });
});
