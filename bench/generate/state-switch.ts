// Switching back to a conversation whose sequence was given to another: evaluate its prompt again, or save
// the sequence's state to a file when it is evicted and load it back. Measures both on the same prompt,
// and what keeping a sequence resident costs in memory instead.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LlamaModel, Token } from "node-llama-cpp";

export interface StateSwitchResult {
  promptTokens: number;
  reevaluateMs: number;
  saveMs: number;
  loadMs: number;
  stateFileBytes: number;
  /** The KV cache and buffers one more resident sequence of this context size costs. */
  residentSequenceBytes: number;
}

export async function measureStateSwitch(model: LlamaModel, options: { prompt: readonly Token[]; threads: number; contextSize: number }): Promise<StateSwitchResult> {
  const dir = await mkdtemp(join(tmpdir(), "billa-state-"));
  const context = await model.createContext({ contextSize: options.contextSize, threads: options.threads });
  const sequenceCost = (sequences: number) => model.fileInsights.estimateContextResourceRequirements({ contextSize: options.contextSize, modelGpuLayers: 0, sequences }).cpuRam;
  try {
    const residentSequenceBytes = sequenceCost(2) - sequenceCost(1);
    const sequence = context.getSequence();
    const file = join(dir, "conversation.state");
    let started = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens([...options.prompt]);
    const reevaluateMs = performance.now() - started;
    started = performance.now();
    const { fileSize } = await sequence.saveStateToFile(file);
    const saveMs = performance.now() - started;
    await sequence.clearHistory();
    await sequence.evaluateWithoutGeneratingNewTokens(model.tokenize("Another conversation."));
    started = performance.now();
    await sequence.loadStateFromFile(file, { acceptRisk: true });
    const loadMs = performance.now() - started;
    if (sequence.contextTokens.length !== options.prompt.length || sequence.contextTokens.some((token, i) => token !== options.prompt[i])) {
      throw new Error("the loaded state does not hold the saved prompt");
    }
    return { promptTokens: options.prompt.length, reevaluateMs, saveMs, loadMs, stateFileBytes: fileSize, residentSequenceBytes };
  } finally {
    await context.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
