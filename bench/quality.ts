// What measuring quality costs and how close it is to llama.cpp's llama-perplexity, in one run:
//   1. the demo model (llama.cpp's own conversions): our perplexity and llama-perplexity's on both texts, and the
//      KL table against F16 (ours with the top-256 base cache, llama-perplexity --kl-divergence with its full one);
//   2. a synthetic model with BiLLa-7B's widths (hidden 4096, FFN 11008, 32 heads, vocab 46,943) and a few layers:
//      seconds per 1000 scored tokens through the app's quality service, node-llama-cpp evaluating the same chunk
//      without reading the distributions, and llama-perplexity; the two layer counts give the cost of one layer,
//      which is extrapolated to BiLLa-7B's 32.
//
//   npm run bench:quality [-- --layers 2,6 --types q4_k_m,f16 --chunks 1 --repeats 2 --skip-demo]
// On a shared machine the fastest of --repeats runs is kept, as the least disturbed one.
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import type { QualityMeasurement } from "../src-main/contract/api.js";
import { EVAL_TEXTS_DIR } from "../src-main/services/app-root.js";
import { createServices } from "../src-main/services/create-services.js";
import { loadEvalText } from "../src-main/services/quality/eval-texts.js";
import { llamaCppGguf } from "../test/support/demo.js";
import { hasLlamaPerplexity, llamaKlDivergence, llamaPerplexity, MISSING_LLAMA_PERPLEXITY } from "../test/support/llama-perplexity.js";
import { measureQuality, reportOf } from "../test/support/quality-jobs.js";
import { writeSyntheticLlamaGguf } from "./support/synthetic-gguf.js";

const { values: flags } = parseArgs({
  options: {
    layers: { type: "string", default: "2,6" },
    repeats: { type: "string", default: "2" },
    types: { type: "string", default: "q4_k_m" },
    chunks: { type: "string", default: "1" },
    "skip-demo": { type: "boolean", default: false },
  },
});
const BILLA_7B = { hidden: 4096, intermediate: 11008, heads: 32, vocab: 46943, layers: 32 } as const;
const CONTEXT = 512;
const chunks = Number(flags.chunks);
const repeats = Number(flags.repeats);

/** The fastest of `repeats` runs. */
async function fastest<T extends { seconds: number }>(run: () => Promise<T>): Promise<T> {
  let best: T | null = null;
  for (let i = 0; i < repeats; i++) {
    const result = await run();
    if (!best || result.seconds < best.seconds) best = result;
  }
  return best!;
}
const work = await mkdtemp(join(tmpdir(), "billa-bench-quality-"));
const services = createServices({ dataDir: join(work, "data"), transport: "cli", gpu: "cpu" });
const pct = (a: number, b: number) => `${(100 * (a / b - 1)).toFixed(4)} %`;

async function measure(models: string[], base: string | "none", contextSize: number, texts?: ("zh" | "en")[], limit?: number): Promise<{ measurements: QualityMeasurement[]; seconds: number }> {
  const started = performance.now();
  const run = await measureQuality(services.api, {
    models: models.map((modelPath) => ({ modelPath })),
    base: base === "none" ? "none" : { modelPath: base },
    contextSize,
    ...(texts ? { texts: texts.map((builtin) => ({ builtin })) } : {}),
    ...(limit === undefined ? {} : { chunks: limit }),
  });
  return { measurements: reportOf(run.outcome).measurements, seconds: (performance.now() - started) / 1000 };
}

console.log(`CPU: ${cpus()[0]?.model.trim()} (${availableParallelism()} threads available); node-llama-cpp on the CPU`);
if (!hasLlamaPerplexity) console.log(`(no llama-perplexity: ${MISSING_LLAMA_PERPLEXITY})`);

try {
  if (!flags["skip-demo"]) {
    console.log("\n== Demo model (llama.cpp's own conversions), context 256, whole texts ==");
    const types = ["f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"];
    const { measurements } = await measure(types.map(llamaCppGguf), llamaCppGguf("f16"), 256);
    console.log("file     text  tokens   ours PPL ± err          llama-perplexity PPL ± err   difference");
    for (const type of ["f16", "q8_0", "q4_k_m"]) {
      for (const text of ["zh", "en"] as const) {
        const m = measurements.find((x) => x.modelPath === llamaCppGguf(type) && x.text.id === `builtin:${text}`)!;
        const theirs = hasLlamaPerplexity ? await llamaPerplexity(llamaCppGguf(type), join(EVAL_TEXTS_DIR, `${text}.txt`), 256) : null;
        console.log(
          `${type.padEnd(8)} ${text.padEnd(5)} ${String(m.result.tokensScored).padEnd(8)} ${`${m.result.perplexity.toFixed(4)} ± ${m.result.error.toFixed(4)}`.padEnd(23)} ${theirs ? `${theirs.perplexity.toFixed(4)} ± ${theirs.error.toFixed(5)}`.padEnd(28) : "—".padEnd(28)} ${theirs ? pct(m.result.perplexity, theirs.perplexity) : ""}`,
        );
      }
    }
    console.log("\nKL against F16 on the en text: ours (top-256 base cache) | llama-perplexity --kl-divergence (full vocabulary)");
    console.log("file     mean KLD            same top p          RMS Δp");
    for (const type of types) {
      const drift = measurements.find((x) => x.modelPath === llamaCppGguf(type) && x.text.id === "builtin:en")!.drift!;
      const theirs = hasLlamaPerplexity && type !== "f16" ? await llamaKlDivergence(llamaCppGguf("f16"), llamaCppGguf(type), join(EVAL_TEXTS_DIR, "en.txt"), 256, join(work, "f16-en.kld")) : null;
      console.log(
        `${type.padEnd(8)} ${`${drift.meanKld.toFixed(6)} | ${theirs ? theirs.meanKld.toFixed(6) : "—"}`.padEnd(19)} ${`${drift.sameTopPercent.toFixed(3)} | ${theirs ? theirs.sameTopPercent.toFixed(3) : "—"}`.padEnd(19)} ${drift.rmsDeltaPercent.toFixed(3)} | ${theirs ? theirs.rmsDeltaPercent.toFixed(3) : "—"} %`,
      );
    }
  }

  console.log(`\n== BiLLa-7B widths (hidden ${BILLA_7B.hidden}, FFN ${BILLA_7B.intermediate}, ${BILLA_7B.heads} heads, vocab ${BILLA_7B.vocab}), context ${CONTEXT}, ${chunks} chunk(s) of the en text ==`);
  const text = await loadEvalText({ builtin: "en" });
  const layerCounts = flags.layers.split(",").map(Number);
  // Wall time and CPU time (user + system, every thread): on a busy shared machine the CPU time is the steadier one.
  const cpuNow = () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
  type Cost = { wall: number; cpu: number | null };
  for (const type of flags.types.split(",")) {
    const rows: { layers: number; ours: Cost; bare: Cost; llama: Cost | null }[] = [];
    for (const layers of layerCounts) {
      const path = join(work, `synthetic-${type}-${layers}l.gguf`);
      const file = await writeSyntheticLlamaGguf(path, { hidden: BILLA_7B.hidden, intermediate: BILLA_7B.intermediate, heads: BILLA_7B.heads, vocab: BILLA_7B.vocab, layers, outType: type as "q4_k_m" });
      // The app's path: the quality service, no base (the model pass a comparison with a cached base costs).
      const ours = await fastest(async () => {
        const cpu = cpuNow();
        const { measurements, seconds } = await measure([path], "none", CONTEXT, ["en"], chunks);
        return { m: measurements[0]!, seconds, cpu: cpuNow() - cpu };
      });
      const m = ours.m;
      const perThousand = (seconds: number) => (1000 * seconds) / m.result.tokensScored;
      // node-llama-cpp evaluating the same chunks without any logits: the model's layers alone.
      const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.warn });
      const threads = Math.min(availableParallelism(), llama.cpuMathCores);
      const model = await llama.loadModel({ modelPath: path });
      const context = await model.createContext({ contextSize: CONTEXT, batchSize: CONTEXT, sequences: 1, threads });
      const sequence = context.getSequence();
      const tokens = [model.tokens.bos!, ...model.tokenize(text.content)];
      const bare = await fastest(async () => {
        const [started, cpu] = [performance.now(), cpuNow()];
        for (let c = 0; c < chunks; c++) {
          await sequence.clearHistory();
          await sequence.evaluateWithoutGeneratingNewTokens(tokens.slice(c * CONTEXT, (c + 1) * CONTEXT - 1) as Token[]);
        }
        return { seconds: (performance.now() - started) / 1000, cpu: cpuNow() - cpu };
      });
      await context.dispose();
      await model.dispose();
      // The same threads as ours (the cores this process may use, at most llama.cpp's math cores).
      const theirs = hasLlamaPerplexity ? await fastest(() => llamaPerplexity(path, join(EVAL_TEXTS_DIR, "en.txt"), CONTEXT, ["--chunks", String(chunks), "-t", String(threads)])) : null;
      const row = {
        layers,
        ours: { wall: perThousand(ours.seconds), cpu: perThousand(ours.cpu) },
        bare: { wall: perThousand(bare.seconds), cpu: perThousand(bare.cpu) },
        llama: theirs ? { wall: perThousand(theirs.seconds), cpu: theirs.cpuSeconds === null ? null : perThousand(theirs.cpuSeconds) } : null,
      };
      rows.push(row);
      const cost = (c: Cost) => `${c.wall.toFixed(1)} s (CPU ${c.cpu === null ? "?" : c.cpu.toFixed(1)} s)`;
      console.log(
        `${type} ${layers} layers (${(file.bytes / 1024 ** 3).toFixed(2)} GiB, ${threads} threads): PPL ours ${m.result.perplexity.toFixed(2)}${theirs ? `, llama-perplexity ${theirs.perplexity.toFixed(2)} (${pct(m.result.perplexity, theirs.perplexity)})` : ""}\n` +
          `  per 1000 scored tokens: ours ${cost(row.ours)}; node-llama-cpp evaluating the layers alone, no logits ${cost(row.bare)}${row.llama ? `; llama-perplexity ${cost(row.llama)}` : ""}`,
      );
      await rm(path, { force: true });
    }
    if (rows.length >= 2) {
      const [a, b] = [rows[0]!, rows.at(-1)!];
      /** A straight line through the two layer counts: the cost of one layer, times BiLLa-7B's 32. */
      const extrapolate = (pick: (row: (typeof rows)[number]) => number | null | undefined) => {
        const [x, y] = [pick(a), pick(b)];
        if (x === null || x === undefined || y === null || y === undefined) return null;
        const perLayer = (y - x) / (b.layers - a.layers);
        return { perLayer, full: x + perLayer * (BILLA_7B.layers - a.layers) };
      };
      for (const clock of ["wall", "cpu"] as const) {
        const ours = extrapolate((row) => row.ours[clock]);
        const theirs = extrapolate((row) => row.llama?.[clock]);
        if (!ours) continue;
        console.log(
          `${type} at ${BILLA_7B.layers} layers (BiLLa-7B), ${clock === "wall" ? "wall time" : "CPU time"}: ours ${(ours.full / 60).toFixed(1)} min per 1000 scored tokens (${ours.perLayer.toFixed(2)} s per layer)` +
            `${theirs ? `, llama-perplexity ${(theirs.full / 60).toFixed(1)} min (ours ÷ theirs ${(ours.full / theirs.full).toFixed(2)})` : ""}` +
            `${clock === "wall" ? `; the wizard's short run (2 chunks × 2 texts = 1020 scored tokens) ≈ ${((ours.full * 1.02) / 60).toFixed(1)} min` : ""}`,
        );
      }
    }
  }
} finally {
  await services.dispose();
  await rm(work, { recursive: true, force: true });
}
