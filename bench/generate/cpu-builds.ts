// The CPU builds side by side at BiLLa-7B's width (hidden 4096, FFN 11008, 32 heads, vocabulary 46,943; 4 of its
// 32 layers, so it runs in minutes): llama.cpp's own llama-bench, node-llama-cpp's prebuilt binary and the threaded
// build through the bare evaluate loop, and the app's chat path, at 1 and 2 threads, decode and prompt processing.
//
// llama-bench comes from $LLAMA_CPP_BIN_DIR: build it once from the source node-llama-cpp pins, e.g.
//   git clone node_modules/node-llama-cpp/llama/gitRelease.bundle /tmp/llama.cpp
//   cmake -S /tmp/llama.cpp -B /tmp/llama.cpp/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF
//   cmake --build /tmp/llama.cpp/build -j --target llama-bench && export LLAMA_CPP_BIN_DIR=/tmp/llama.cpp/build/bin
// Without it, that column is left out and the ratios are not computed.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { writeSyntheticLlamaGguf } from "../support/synthetic-gguf.js";
import type { CpuBuildsChildResult, CpuBuildsChildSpec } from "./cpu-builds-child.js";

const run = promisify(execFile);
export const BILLA_7B_WIDTH = { hidden: 4096, layers: 4, heads: 32, intermediate: 11008, vocab: 46943 } as const;
const THREADS = [1, 2];
const TOKENS = 128;
const PROMPT_TOKENS = 512;
const REPEATS = 3;
const CHILD = fileURLToPath(new URL("./cpu-builds-child.ts", import.meta.url));
const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));

interface Column {
  name: string;
  result: CpuBuildsChildResult | null;
  note: string;
}

async function child(spec: Omit<CpuBuildsChildSpec, "threads" | "tokens" | "repeats" | "promptTokens">): Promise<CpuBuildsChildResult> {
  const full: CpuBuildsChildSpec = { ...spec, threads: THREADS, tokens: TOKENS, repeats: REPEATS, promptTokens: PROMPT_TOKENS };
  const { stdout } = await run(process.execPath, [TSX, CHILD, JSON.stringify(full)], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as CpuBuildsChildResult;
}

/** llama-bench's pp and tg for each thread count (its JSON output: avg_ts per test). */
async function llamaBench(model: string): Promise<CpuBuildsChildResult | null> {
  const binary = join(process.env["LLAMA_CPP_BIN_DIR"] ?? "", "llama-bench");
  if (!process.env["LLAMA_CPP_BIN_DIR"] || !existsSync(binary)) return null;
  const { stdout } = await run(binary, ["-m", model, "-p", String(PROMPT_TOKENS), "-n", String(TOKENS), "-t", THREADS.join(","), "-r", String(REPEATS), "-o", "json"], { maxBuffer: 16 * 1024 * 1024 });
  const tests = JSON.parse(stdout) as { n_prompt: number; n_gen: number; n_threads: number; avg_ts: number }[];
  const result: CpuBuildsChildResult = { build: "llama-bench", decode: {}, prompt: {} };
  for (const test of tests) (test.n_gen > 0 ? result.decode : result.prompt)[test.n_threads] = test.avg_ts;
  return result;
}

export async function measureCpuBuilds(dir: string, log: (line: string) => void): Promise<{ rows: [string, string][]; json: object }> {
  const model = join(dir, "billa-7b-width-q4_k_m.gguf");
  const written = await writeSyntheticLlamaGguf(model, { ...BILLA_7B_WIDTH, outType: "q4_k_m" });
  log(`BiLLa-7B-wide synthetic model: ${(written.parameters / 1e9).toFixed(2)}B parameters, ${(written.bytes / 2 ** 20).toFixed(0)} MiB, ${BILLA_7B_WIDTH.layers} of 32 layers`);

  const columns: Column[] = [];
  log("llama-bench …");
  columns.push({ name: "llama-bench", result: await llamaBench(model), note: "llama.cpp's own, built from the same source" });
  log("node-llama-cpp prebuilt, bare loop …");
  columns.push({ name: "prebuilt (bare)", result: await child({ path: "bare", build: "prebuilt", model }), note: "node-llama-cpp's binary, no OpenMP" });
  log("threaded build, bare loop …");
  const threaded = await child({ path: "bare", build: "threaded", model });
  columns.push({ name: "threaded (bare)", result: threaded, note: threaded.build === "threaded" ? "npm run build:llama" : "absent: the prebuilt ran (npm run build:llama)" });
  log("the app's chat path …");
  const app = await child({ path: "chat", build: "threaded", model });
  columns.push({ name: `app chat path (${app.build})`, result: app, note: "services → runtime → BiLLa's chat wrapper" });

  const cell = (column: Column, measure: "decode" | "prompt", threads: number) => column.result?.[measure][threads]?.toFixed(1) ?? "—";
  const width = Math.max(...columns.map((column) => column.name.length)) + 2;
  const rows: [string, string][] = [["", columns.map((column) => column.name.padStart(width)).join("")]];
  for (const measure of ["decode", "prompt"] as const) {
    for (const threads of THREADS) {
      const label = `${measure === "decode" ? `tg${TOKENS}` : `pp${PROMPT_TOKENS}`} tok/s, ${threads} thread${threads > 1 ? "s" : ""}`;
      rows.push([label, columns.map((column) => cell(column, measure, threads).padStart(width)).join("")]);
    }
  }
  const reference = columns[0]!.result;
  const best = (result: CpuBuildsChildResult, measure: "decode" | "prompt") => Math.max(...THREADS.map((threads) => result[measure][threads] ?? 0));
  if (reference) {
    rows.push(["app / llama-bench, best decode (goal ≥ 0.9)", (best(app, "decode") / best(reference, "decode")).toFixed(3)]);
    rows.push(["app / llama-bench, best prompt (goal ≥ 0.95)", (best(app, "prompt") / best(reference, "prompt")).toFixed(3)]);
  } else {
    rows.push(["llama-bench", "not run: set LLAMA_CPP_BIN_DIR (see bench/generate/cpu-builds.ts)"]);
  }
  for (const column of columns) rows.push([`  ${column.name}`, column.note]);
  return { rows, json: { model: BILLA_7B_WIDTH, parameters: written.parameters, columns } };
}
