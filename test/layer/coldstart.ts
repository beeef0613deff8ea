// Cold-start cost of the layer, measured with the harness: Init Duration (process start → first
// GET /next) and the first invocation, for no layer, handler redirection and the exec wrapper.
// Runs interleaved rounds so that machine noise hits every mode alike. Prints numbers; asserts nothing.
//   npx tsx test/layer/coldstart.ts [rounds=15]
import * as path from "node:path";
import { startOtlpReceiver } from "./otlp";
import { type LayerMode, startFunction } from "./runtime";

const rounds = Number(process.argv[2] ?? 15);
const modes: LayerMode[] = ["none", "redirect", "wrapper"];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const receiver = await startOtlpReceiver();
  const series = () => Object.fromEntries(modes.map((m) => [m, [] as number[]]));
  const init = series();
  const first = series();
  const warm = series();
  for (let round = 0; round < rounds + 1; round++) {
    for (const mode of modes) {
      const fn = await startFunction({
        mode,
        taskRoot: path.join(__dirname, "fixtures/fn"),
        handler: "index.handler",
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      });
      const cold = await fn.invoke({ round });
      const next = await fn.invoke({ round });
      await fn.stop();
      if (round === 0) continue; // warm-up round: file system caches
      init[mode].push(fn.initDurationMs);
      first[mode].push(cold.durationMs);
      warm[mode].push(next.durationMs);
    }
  }
  await receiver.close();
  console.log(`node ${process.version}, ${rounds} rounds, median ms (min–max)`);
  console.log("mode       init           first invoke   warm invoke");
  const fmt = (xs: number[]) =>
    `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`.padEnd(15);
  for (const mode of modes)
    console.log(`${mode.padEnd(10)} ${fmt(init[mode])}${fmt(first[mode])}${fmt(warm[mode])}`);
  for (const mode of ["redirect", "wrapper"]) {
    const addedInit = median(init[mode]) - median(init.none);
    const addedFirst = median(first[mode]) - median(first.none);
    console.log(
      `added by ${mode}: init ${addedInit.toFixed(1)} ms, first invocation ${addedFirst.toFixed(1)} ms`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
