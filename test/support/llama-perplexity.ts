// llama.cpp's own llama-perplexity, built from the source node-llama-cpp bundles, as the reference our quality
// measurements are checked against. Found in $LLAMA_CPP_BIN_DIR, else in /work/llama.cpp/build/bin (where this
// project's machines build it); tests that need it skip with a message where it is not.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const LLAMA_CPP_BIN_DIR = process.env["LLAMA_CPP_BIN_DIR"] ?? "/work/llama.cpp/build/bin";
export const LLAMA_PERPLEXITY = join(LLAMA_CPP_BIN_DIR, "llama-perplexity");
export const hasLlamaPerplexity = existsSync(LLAMA_PERPLEXITY);
export const MISSING_LLAMA_PERPLEXITY = `llama-perplexity is not at ${LLAMA_PERPLEXITY}: build llama.cpp's tools from node-llama-cpp's bundled source and set LLAMA_CPP_BIN_DIR to their folder`;

export interface LlamaPerplexityRun {
  perplexity: number;
  error: number;
  seconds: number;
  /** User + system CPU time, where /usr/bin/time can tell it (for benchmarks on a busy machine). */
  cpuSeconds: number | null;
  output: string;
}

const TIME = "/usr/bin/time";
const hasTime = existsSync(TIME);

/**
 * `llama-perplexity -m MODEL -f TEXT -c CONTEXT` and its "Final estimate". llama.cpp's logger writes from its own
 * thread and now and then loses its last lines at exit when its output is a pipe: such a run is repeated.
 */
export async function llamaPerplexity(model: string, textFile: string, contextSize: number, extra: string[] = []): Promise<LlamaPerplexityRun> {
  let output = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = performance.now();
    const args = ["-m", model, "-f", textFile, "-c", String(contextSize), "-t", "1", ...extra];
    const { stdout, stderr } = hasTime ? await run(TIME, ["-f", "LLAMA_CPU %U %S", LLAMA_PERPLEXITY, ...args], { maxBuffer: 64 * 2 ** 20 }) : await run(LLAMA_PERPLEXITY, args, { maxBuffer: 64 * 2 ** 20 });
    output = `${stdout}\n${stderr}`;
    const final = /Final estimate: PPL = ([\d.]+) \+\/- ([\d.]+)/.exec(output);
    const cpu = /LLAMA_CPU ([\d.]+) ([\d.]+)/.exec(output);
    if (final) return { perplexity: Number(final[1]), error: Number(final[2]), seconds: (performance.now() - started) / 1000, cpuSeconds: cpu ? Number(cpu[1]) + Number(cpu[2]) : null, output };
  }
  throw new Error(`llama-perplexity printed no final estimate:\n${output.slice(-2000)}`);
}

export interface LlamaKlDivergence {
  meanKld: number;
  sameTopPercent: number;
  rmsDeltaPercent: number;
  perplexity: number;
}

/** `--kl-divergence-base BASE_FILE` with the base model, then `--kl-divergence` with the other. */
export async function llamaKlDivergence(base: string, model: string, textFile: string, contextSize: number, baseLogitsFile: string): Promise<LlamaKlDivergence> {
  // Saving the base's logits prints no final estimate: just run it.
  if (!existsSync(baseLogitsFile)) await run(LLAMA_PERPLEXITY, ["-m", base, "-f", textFile, "-c", String(contextSize), "-t", "1", "--kl-divergence-base", baseLogitsFile], { maxBuffer: 64 * 2 ** 20 });
  let output = "";
  for (let attempt = 0; attempt < 3 && !/Same top p:/.test(output); attempt++) {
    const { stdout, stderr } = await run(LLAMA_PERPLEXITY, ["-m", model, "-c", String(contextSize), "-t", "1", "--kl-divergence-base", baseLogitsFile, "--kl-divergence"], { maxBuffer: 64 * 2 ** 20 });
    output = `${stdout}\n${stderr}`;
  }
  const value = (pattern: RegExp) => {
    const match = pattern.exec(output);
    if (!match) throw new Error(`llama-perplexity --kl-divergence printed no ${pattern}:\n${output.slice(-2000)}`);
    return Number(match[1]);
  };
  return {
    meanKld: value(/Mean {4}KLD:\s+(-?[\d.]+)/),
    sameTopPercent: value(/Same top p:\s+([\d.]+)/),
    rmsDeltaPercent: value(/RMS Δp\s+:\s+([\d.]+)/),
    perplexity: value(/Mean PPL\(Q\)\s+:\s+([\d.]+)/),
  };
}
