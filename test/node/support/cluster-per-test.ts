// One in-process cluster per test: the test starts it, and it is closed after the test whatever
// happened, with anything left over cleaned up and the node loops' fatal errors failing the test.

import { afterEach, expect } from "vitest";
import { cleanUpEverything } from "../../support/cleanup.js";
import { InProcessCluster, type InProcessClusterOptions } from "./in-process-cluster.js";

/** Call at the top of a test file; the returned function starts the current test's cluster. */
export function clusterPerTest(): (options: InProcessClusterOptions) => Promise<InProcessCluster> {
  let cluster: InProcessCluster | undefined;
  afterEach(async () => {
    const fatal = cluster?.fatalErrors ?? [];
    await cluster?.close();
    cluster = undefined;
    await cleanUpEverything();
    expect(fatal).toEqual([]);
  });
  return async (options) => {
    cluster = await InProcessCluster.start(options);
    return cluster;
  };
}
