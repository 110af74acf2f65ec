// A reply lost on its way back (the network between the client and the gateway swallows it):
// the client cannot know whether its write took effect, retries with the same request_id, and
// the write is applied exactly once. The proxy passes the request and drops only the replies.

import { afterAll, describe, expect, it } from "vitest";
import { LedgerClient } from "../../src/client/index.js";
import { isLedgerError } from "../../src/base/errors.js";
import { autoCleanup } from "../support/cleanup.js";
import { useCluster } from "../support/cluster-processes.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { untilAnswered } from "../support/until-answered.js";

autoCleanup("all");

const { running, reported } = useCluster({ shards: 2 });
const opened: { close(): unknown }[] = [];
afterAll(async () => {
  for (const o of opened.splice(0)) await o.close();
});

describe("a write whose reply is lost", () => {
  it(
    "applies once when the client retries it with the same request_id after not hearing back",
    reported(async () => {
      const c = running();
      const proxy = await TcpProxy.start(c.gatewayAddress);
      opened.push(proxy);
      const client = LedgerClient.connect(proxy.address, { deadlineMs: 3_000, ...c.clientSecurity() });
      opened.push(client);
      const account = await client.createAccount({ requestId: "lost-reply-account" });
      const request = { accountId: account.id, amount: 7n, settled: true, requestId: "lost-reply-topup" };

      proxy.setMode({ kind: "drop-replies" });
      const lost = await client.createTransaction(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isLedgerError(lost) ? lost.code : lost, "the first attempt hears nothing back").toBe("DEADLINE_EXCEEDED");

      // Healing resets the connection; like any client that heard nothing, retry the same
      // request until it gets an answer.
      proxy.setMode({ kind: "pass" });
      const retried = await untilAnswered(() => client.createTransaction(request, { timeoutMs: 5_000 }), 30_000);
      const again = await client.createTransaction(request, { timeoutMs: 15_000 });
      expect(again.id).toBe(retried.id);
      const stored = [];
      for await (const t of client.transactions(account.id)) stored.push(t);
      expect(stored.map((t) => t.id)).toEqual([retried.id]);
      const balances = await client.getAccount(account.id);
      expect([balances.availableBalance, balances.settledBalance]).toEqual([7n, 7n]);
    }),
    60_000,
  );
});
