// grpc.health.v1 on real processes: a node is SERVING once every shard it hosts has a leader,
// NOT_SERVING without a quorum and SERVING again when one returns (Check and Watch agree); the
// gateway is SERVING while taking calls and tells its Watch streams NOT_SERVING when it stops;
// the standalone server likewise.
// The node tests run in order on one cluster; each is one step of the scenario.

import { makeGenericClientConstructor, type Client, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { afterAll, describe, expect, it } from "vitest";
import { autoCleanup } from "../support/cleanup.js";
import { useCluster } from "../support/cluster-processes.js";
import { makeTempDir } from "../support/temp-dirs.js";
import { startStandalone } from "../e2e/standalone-server.js";
import type { ChannelSecurity } from "../../src/transport/channel-security.js";
import type { TestCluster } from "../support/cluster-processes.js";

autoCleanup("all");

type Status = "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";
const checkDeadlineMs = 2_000;
const pollIntervalMs = 100;
/** Losing the quorum shows after an election timeout (1-2 s: CheckQuorum, PreVote); regaining
 * it after an election. Generous for a loaded 2-core machine. */
const transitionMsMax = 30_000;

interface HealthClient extends Client {
  check(
    request: { service: string },
    options: { deadline: number },
    callback: (e: ServiceError | null, response?: { status: Status }) => void,
  ): void;
  watch(request: { service: string }): ClientReadableStream<{ status: Status }>;
}

const HealthClientCtor = makeGenericClientConstructor(healthService, "Health") as unknown as new (
  address: string,
  creds: ChannelSecurity["credentials"],
  options: object,
) => HealthClient;
const clients: HealthClient[] = [];

/** A health client over `channel` (a node's health needs a client certificate; the public ports only TLS). */
function healthClient(address: string, channel: ChannelSecurity): HealthClient {
  const client = new HealthClientCtor(address, channel.credentials, channel.options);
  clients.push(client);
  return client;
}

function operatorChannel(c: TestCluster, nodeId: string): ChannelSecurity {
  return c.secrets!.operator.channelTo({ role: "node", name: nodeId });
}

function check(client: HealthClient, service = ""): Promise<Status> {
  return new Promise((resolve, reject) =>
    client.check({ service }, { deadline: Date.now() + checkDeadlineMs }, (e, r) =>
      e ? reject(e) : resolve(r!.status),
    ),
  );
}

/** Polls Check until it answers `want`; fails with the last answer after `timeoutMs`. */
async function checkUntil(
  client: HealthClient,
  want: Status,
  timeoutMs = transitionMsMax,
  service = "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  for (;;) {
    try {
      last = await check(client, service);
      if (last === want) return;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline)
      throw new Error(
        `Check(${JSON.stringify(service)}) did not answer ${want} within ${timeoutMs} ms (last: ${last})`,
      );
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}

/** A Watch stream recording every status it is sent; `seen(status)` resolves once one arrives. */
function watch(
  client: HealthClient,
  service = "",
): {
  statuses: Status[];
  seen(status: Status, afterIndex?: number, timeoutMs?: number): Promise<number>;
  ended: Promise<void>;
  cancel(): void;
} {
  const statuses: Status[] = [];
  const listeners = new Set<() => void>();
  const call = client.watch({ service });
  call.on("data", (r: { status: Status }) => {
    statuses.push(r.status);
    for (const l of listeners) l();
  });
  const ended = new Promise<void>((resolve) => {
    call.on("end", resolve);
    call.on("error", () => resolve());
  });
  return {
    statuses,
    ended,
    cancel: () => call.cancel(),
    seen: (status, afterIndex = 0, timeoutMs = transitionMsMax) =>
      new Promise((resolve, reject) => {
        const look = (): void => {
          const i = statuses.indexOf(status, afterIndex);
          if (i < 0) return;
          clearTimeout(timer);
          listeners.delete(look);
          resolve(i);
        };
        const timer = setTimeout(() => {
          listeners.delete(look);
          reject(
            new Error(
              `Watch did not see ${status} after index ${afterIndex} within ${timeoutMs} ms (saw ${statuses.join(", ")})`,
            ),
          );
        }, timeoutMs);
        listeners.add(look);
        look();
      }),
  };
}

afterAll(() => {
  for (const c of clients) c.close();
});

describe("health of a node, with and without a quorum", () => {
  const { running, reported } = useCluster({ shards: 2 });
  let nodeWatch: ReturnType<typeof watch> | undefined;
  let notServingAt = -1;

  afterAll(() => nodeWatch?.cancel());

  it(
    "reports SERVING (overall and for ledger.node.v1.NodeService) once the cluster has leaders",
    reported(async () => {
      const c = running();
      await c.waitForLeaders();
      const client = healthClient(c.addressOf("node01"), operatorChannel(c, "node01"));
      await checkUntil(client, "SERVING");
      await checkUntil(client, "SERVING", transitionMsMax, "ledger.node.v1.NodeService");
      nodeWatch = watch(client);
      await nodeWatch.seen("SERVING");
    }),
    60_000,
  );

  it(
    "reports NOT_SERVING with the two other nodes stopped (no quorum), on Check and on a Watch stream",
    reported(async () => {
      const c = running();
      if (!nodeWatch) throw new Error("the first step did not run");
      await c.killNode("node02");
      await c.killNode("node03");
      const client = healthClient(c.addressOf("node01"), operatorChannel(c, "node01"));
      await checkUntil(client, "NOT_SERVING");
      notServingAt = await nodeWatch.seen("NOT_SERVING");
      expect(await check(client, "ledger.node.v1.NodeService")).toBe("NOT_SERVING");
      // The node logs the transition with the shards that lack a leader.
      const line = await c
        .nodeProcess("node01")!
        .waitForJson(
          (e) => e.msg === "health status changed" && e.health === "NOT_SERVING" && e.previous === "SERVING",
        );
      expect(String(line.reason)).toMatch(/^no leader: /);
    }),
    60_000,
  );

  it(
    "reports SERVING again when one of them comes back",
    reported(async () => {
      const c = running();
      if (!nodeWatch || notServingAt < 0) throw new Error("the earlier steps did not run");
      await c.startNode("node02");
      await checkUntil(healthClient(c.addressOf("node01"), operatorChannel(c, "node01")), "SERVING");
      await nodeWatch.seen("SERVING", notServingAt + 1);
    }),
    60_000,
  );
});

describe("health of the gateway", () => {
  const { running, reported } = useCluster({ shards: 2 });

  it(
    "reports SERVING while taking calls, and a Watch stream sees NOT_SERVING before the process exits",
    reported(async () => {
      const c = running();
      const client = healthClient(c.gatewayAddress, c.secrets!.publicChannel());
      expect(await check(client)).toBe("SERVING");
      expect(await check(client, "ledger.v1.LedgerService")).toBe("SERVING");
      const w = watch(client);
      await w.seen("SERVING");
      const exit = await c.stopGateway("SIGTERM");
      expect(exit).toEqual({ code: 0, signal: null });
      // Whatever the stream received, the process sent before it exited.
      await w.ended;
      expect(w.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    }),
    60_000,
  );
});

describe("health of the standalone server", () => {
  it("reports SERVING while taking calls, and a Watch stream sees NOT_SERVING when it stops", async () => {
    const server = await startStandalone(await makeTempDir("health-standalone-"));
    try {
      const client = healthClient(server.address, server.secrets.publicChannel());
      expect(await check(client, "ledger.v1.LedgerService")).toBe("SERVING");
      const w = watch(client);
      await w.seen("SERVING");
      expect(await server.process.stop()).toEqual({ code: 0, signal: null });
      await w.ended;
      expect(w.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    } finally {
      server.client.close();
    }
  }, 60_000);
});
