import { runClusterSimulation } from "./cluster-simulation.js";
const [a, b, chaos] = process.argv.slice(2).map(Number);
const t0 = performance.now();
for (let seed = a!; seed <= b!; seed++) {
  const r = await runClusterSimulation({ seed, chaosMs: chaos ?? 4000 });
  if (!r.passed) console.log(seed, (r.failure ?? "").split("\n").slice(0, 3).join(" | ").slice(0, 400));
}
console.log("done", ((performance.now() - t0) / 1000).toFixed(1), "s");
