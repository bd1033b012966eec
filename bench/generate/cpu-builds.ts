// The CPU builds side by side at BiLLa-7B's width (hidden 4096, FFN 11008, 32 heads, vocabulary 46,943; 4 of its
// 32 layers, so it runs in minutes): llama.cpp's own llama-bench, node-llama-cpp's prebuilt binary and the threaded
// build through the bare evaluate loop, and the app's chat path, at 1 and 2 threads, decode and prompt processing.
// All do the same work, a first question's: a 512-token prompt into an empty context, then 128 tokens decoded after
// it. So llama-bench runs pp512 and tg128 at depth 512 (`-d 512`: decoding after a prompt is slower than its
// default tg128 from an empty context, which is printed too), with flash attention off and on, the faster counted.
// The sides run in rounds, in turn, and each reports its median (see ROUNDS). Then the thread rule: the threaded
// build's decode speed at each thread count on smaller models, next to the app's default (llama-runtime.ts).
//
// llama-bench comes from $LLAMA_CPP_BIN_DIR: build it once from the source node-llama-cpp pins, e.g.
//   git clone node_modules/node-llama-cpp/llama/gitRelease.bundle /tmp/llama.cpp
//   cmake -S /tmp/llama.cpp -B /tmp/llama.cpp/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF
//   cmake --build /tmp/llama.cpp/build -j --target llama-bench && export LLAMA_CPP_BIN_DIR=/tmp/llama.cpp/build/bin
// Without it, that column is left out and the ratios are not computed.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { defaultThreadCount } from "../../src-main/services/runtime/llama-runtime.js";
import { SYNTHETIC_134M, writeSyntheticLlamaGguf } from "../support/synthetic-gguf.js";
import { median } from "../support/median.js";
import type { CpuBuildsChildResult, CpuBuildsChildSpec } from "./cpu-builds-child.js";

const run = promisify(execFile);
export const BILLA_7B_WIDTH = { hidden: 4096, layers: 4, heads: 32, intermediate: 11008, vocab: 46943 } as const;
const THREADS = [...new Set([1, 2, availableParallelism()])].sort((a, b) => a - b);
const TOKENS = 128;
const PROMPT_TOKENS = 512;
/**
 * Rounds of every side in turn, each side's figure the median of its rounds: this machine's speed drifts by ±15 %
 * from minute to minute, so sides measured one after the other for minutes each would compare the drift.
 */
const ROUNDS = 3;
/** Timed runs of each side per round, after its warm-up. */
const REPEATS = 1;
/** Models for the thread rule, either side of llama-runtime.ts's small-model size (7B-wide comes from the main table). */
const THREAD_RULE_MODELS = [
  { name: "134M", shape: SYNTHETIC_134M },
  { name: "600M", shape: { hidden: 2048, layers: 8, heads: 16, intermediate: 5504, vocab: 46943 } },
] as const;
const CHILD = fileURLToPath(new URL("./cpu-builds-child.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

interface Column {
  name: string;
  result: CpuBuildsChildResult | null;
  note: string;
}

async function child(spec: Omit<CpuBuildsChildSpec, "threads" | "tokens" | "repeats" | "promptTokens">, repeats = REPEATS): Promise<CpuBuildsChildResult> {
  const full: CpuBuildsChildSpec = { ...spec, threads: THREADS, tokens: TOKENS, repeats, promptTokens: PROMPT_TOKENS };
  const { stdout } = await run(process.execPath, [TSX, CHILD, JSON.stringify(full)], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as CpuBuildsChildResult;
}

interface LlamaBenchTest {
  n_prompt: number;
  n_gen: number;
  n_depth: number;
  n_threads: number;
  flash_attn: boolean | number;
  avg_ts: number;
}

interface LlamaBenchResult extends CpuBuildsChildResult {
  /** By test ("decode 2"): whether flash attention on was the faster. */
  flashAttention: Record<string, boolean>;
  /** tg128 from an empty context, llama-bench's default test, by thread count. */
  emptyContextDecode: Record<number, number>;
}

type Figures<T> = { [K in keyof T]: T[K] extends Record<number, number> ? K : never }[keyof T];

/** A side's rounds as one result: each of `fields` the median of its rounds, the rest as in the last round. */
function medianOfRounds<T extends CpuBuildsChildResult>(results: T[], fields: Figures<T>[]): T | null {
  const last = results.at(-1);
  if (!last) return null;
  const merged = { ...last };
  for (const field of fields) {
    const byThreads = (result: T) => result[field] as Record<number, number>;
    merged[field] = Object.fromEntries(Object.keys(byThreads(last)).map((threads) => [threads, median(results.map((result) => byThreads(result)[Number(threads)]!))])) as T[typeof field];
  }
  return merged;
}

/**
 * llama-bench's pp512 and tg128 at depth 512 for each thread count, the faster of flash attention off and on
 * (`flashAttention` says which), and its default tg128 from an empty context (`emptyContextDecode`).
 */
async function llamaBench(model: string): Promise<LlamaBenchResult | null> {
  const binary = join(process.env["LLAMA_CPP_BIN_DIR"] ?? "", "llama-bench");
  if (!process.env["LLAMA_CPP_BIN_DIR"] || !existsSync(binary)) return null;
  const bench = async (...args: string[]) => {
    const common = ["-m", model, "-t", THREADS.join(","), "-fa", "0,1", "-r", String(REPEATS), "-o", "json"];
    const { stdout } = await run(binary, [...common, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return JSON.parse(stdout) as LlamaBenchTest[];
  };
  const tests = [...(await bench("-p", String(PROMPT_TOKENS), "-n", "0")), ...(await bench("-p", "0", "-n", String(TOKENS), "-d", `0,${PROMPT_TOKENS}`))];
  const result: LlamaBenchResult = { build: "llama-bench", decode: {}, prompt: {}, promptTokens: PROMPT_TOKENS, flashAttention: {}, emptyContextDecode: {} };
  for (const test of tests) {
    if (test.n_gen > 0 && test.n_depth === 0) {
      result.emptyContextDecode[test.n_threads] = Math.max(result.emptyContextDecode[test.n_threads] ?? 0, test.avg_ts);
      continue;
    }
    const measure = test.n_gen > 0 ? "decode" : "prompt";
    if (test.avg_ts > (result[measure][test.n_threads] ?? 0)) {
      result[measure][test.n_threads] = test.avg_ts;
      result.flashAttention[`${measure} ${test.n_threads}`] = Boolean(test.flash_attn);
    }
  }
  return result;
}

export async function measureCpuBuilds(dir: string, log: (line: string) => void): Promise<{ rows: [string, string][]; json: object }> {
  const model = join(dir, "billa-7b-width-q4_k_m.gguf");
  const written = await writeSyntheticLlamaGguf(model, { ...BILLA_7B_WIDTH, outType: "q4_k_m" });
  log(`BiLLa-7B-wide synthetic model: ${(written.parameters / 1e9).toFixed(2)}B parameters, ${(written.bytes / 2 ** 20).toFixed(0)} MiB, ${BILLA_7B_WIDTH.layers} of 32 layers`);

  const sides: { name: string; note: string; measure: () => Promise<CpuBuildsChildResult | LlamaBenchResult | null> }[] = [
    { name: "llama-bench", note: "llama.cpp's own, built from the same source; the faster of flash attention off and on", measure: () => llamaBench(model) },
    { name: "prebuilt (bare)", note: "node-llama-cpp's binary, no OpenMP", measure: () => child({ path: "bare", build: "prebuilt", model }) },
    { name: "threaded (bare)", note: "npm run build:llama", measure: () => child({ path: "bare", build: "threaded", model }) },
    { name: "app chat path", note: "services → runtime → BiLLa's chat wrapper", measure: () => child({ path: "chat", build: "threaded", model }) },
  ];
  const rounds = sides.map((): (CpuBuildsChildResult | LlamaBenchResult)[] => []);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [i, side] of sides.entries()) {
      log(`round ${round} of ${ROUNDS}: ${side.name} …`);
      const result = await side.measure();
      if (result) rounds[i]!.push(result);
    }
  }
  const reference = medianOfRounds(rounds[0] as LlamaBenchResult[], ["decode", "prompt", "emptyContextDecode"]);
  const [prebuilt, threaded, app] = rounds.slice(1).map((results) => medianOfRounds(results, ["decode", "prompt"])!) as [CpuBuildsChildResult, CpuBuildsChildResult, CpuBuildsChildResult];
  const columns: Column[] = [reference, prebuilt, threaded, app].map((result, i) => ({ name: sides[i]!.name, note: sides[i]!.note, result }));
  if (threaded.build !== "threaded") columns[2]!.note = "absent: the prebuilt ran (npm run build:llama)";
  columns[3]!.name = `app chat path (${app.build})`;
  columns[3]!.note += `; the question's prompt is ${app.promptTokens} tokens`;

  const cell = (column: Column, measure: "decode" | "prompt", threads: number) => column.result?.[measure][threads]?.toFixed(1) ?? "—";
  const width = Math.max(...columns.map((column) => column.name.length)) + 2;
  const rows: [string, string][] = [["", columns.map((column) => column.name.padStart(width)).join("")]];
  const plural = (threads: number) => `${threads} thread${threads > 1 ? "s" : ""}`;
  for (const measure of ["decode", "prompt"] as const) {
    for (const threads of THREADS) {
      const label = `${measure === "decode" ? `tg${TOKENS} after pp${PROMPT_TOKENS}` : `pp${PROMPT_TOKENS}`} tok/s, ${plural(threads)}`;
      rows.push([label, columns.map((column) => cell(column, measure, threads).padStart(width)).join("")]);
    }
  }
  const best = (result: CpuBuildsChildResult, measure: "decode" | "prompt") => Math.max(...THREADS.map((threads) => result[measure][threads] ?? 0));
  if (reference) {
    rows.push(["app / llama-bench, best decode (goal ≥ 0.9)", (best(app, "decode") / best(reference, "decode")).toFixed(3)]);
    rows.push(["app / llama-bench, best prompt (goal ≥ 0.95)", (best(app, "prompt") / best(reference, "prompt")).toFixed(3)]);
    const emptyContext = THREADS.map((threads) => `${reference.emptyContextDecode[threads]?.toFixed(1) ?? "—"} (${plural(threads)})`).join(", ");
    rows.push([`llama-bench tg${TOKENS} from an empty context`, `${emptyContext}: its default test, no prompt before it`]);
    rows.push(["llama-bench's faster flash attention", Object.entries(reference.flashAttention).map(([test, on]) => `${test}: ${on ? "on" : "off"}`).join(", ")]);
  } else {
    rows.push(["llama-bench", "not run: set LLAMA_CPP_BIN_DIR (see bench/generate/cpu-builds.ts)"]);
  }
  for (const column of columns) rows.push([`  ${column.name}`, column.note]);

  // The thread rule, measured on the threaded build: the app's default against the fastest count.
  const ruleRows: { name: string; parameters: number; decode: Record<number, number> }[] = [];
  for (const { name, shape } of THREAD_RULE_MODELS) {
    log(`thread rule: ${name} …`);
    const path = join(dir, `thread-rule-${name}.gguf`);
    const file = await writeSyntheticLlamaGguf(path, { ...shape, outType: "q4_k_m" });
    ruleRows.push({ name, parameters: file.parameters, decode: (await child({ path: "bare", build: "threaded", model: path }, ROUNDS)).decode }); // one process, as many timed runs as rounds
  }
  ruleRows.push({ name: "7B-wide", parameters: written.parameters, decode: threaded.decode });
  rows.push([`thread rule (${threaded.build} build, decode tok/s)`, `${THREADS.map(plural).join(" / ")}; the app's default`]);
  for (const rule of ruleRows) {
    const fastest = THREADS.reduce((a, b) => ((rule.decode[b] ?? 0) > (rule.decode[a] ?? 0) ? b : a));
    const chosen = defaultThreadCount(rule.parameters, Math.max(...THREADS));
    rows.push([`  ${rule.name} (${(rule.parameters / 1e6).toFixed(0)}M parameters)`, `${THREADS.map((threads) => rule.decode[threads]?.toFixed(1) ?? "—").join(" / ")}; ${plural(chosen)}${chosen === fastest ? " (the fastest)" : `, but ${plural(fastest)} was faster`}`]);
  }
  return { rows, json: { model: BILLA_7B_WIDTH, parameters: written.parameters, columns, threadRule: ruleRows } };
}
