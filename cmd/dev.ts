// Dev CLI: seed accounts, run seed 001's scenario 1, generate cluster_config.json, show the
// cluster's status.
//
//   tsx cmd/dev.ts seed-accounts [--count 100] [--gateway localhost:8000] [--concurrency 16]
//   tsx cmd/dev.ts scenario-1 --account-id ID [--gateway localhost:8000]
//   tsx cmd/dev.ts gen-cluster-config [--nodes 3] [--shards 16] [--replication-factor 3] [--base-port 7000] [--host 127.0.0.1] [--out cluster_config.json]
//   tsx cmd/dev.ts status [--cluster-config cluster_config.json] [--watch] [--interval-ms 1000] [--timeout-ms 2000]
//
// Exit codes: 0 success, 1 failure while running, 2 bad usage.

import { exitFailure, runDev } from "../tools/dev/program.js";

// `dev seed-accounts | head -3`: the reader went away. Stop quietly (like a program killed by
// SIGPIPE) instead of dying on an unhandled EPIPE with a stack trace; the run did not finish,
// hence the failure code.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  process.exit(exitFailure);
});

process.exitCode = await runDev(process.argv);
