// All llama.cpp code of the app lives in this module (node-llama-cpp's Electron template does the same):
// one Llama instance for the process, created on first use, disposed on shutdown.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getLlama, type Llama, type LlamaGpuType } from "node-llama-cpp";

export type GpuPreference = "auto" | Exclude<LlamaGpuType, false> | "cpu";

export interface GpuState {
  backend: Exclude<LlamaGpuType, false> | null;
  devices: string[];
  vram: { totalBytes: number; usedBytes: number; freeBytes: number };
}

export class LlamaRuntime {
  #llama: Promise<Llama> | undefined;

  constructor(private readonly gpu: GpuPreference = "auto") {}

  /** GPU first (CUDA, Vulkan or Metal, whichever works), CPU when none does; never builds from source. */
  #getLlama(): Promise<Llama> {
    this.#llama ??= getLlama({ gpu: this.gpu === "cpu" ? false : this.gpu, build: "never", progressLogs: false });
    return this.#llama;
  }

  async gpuState(): Promise<GpuState> {
    const llama = await this.#getLlama();
    const [devices, vram] = await Promise.all([llama.getGpuDeviceNames(), llama.getVramState()]);
    return {
      backend: llama.gpu === false ? null : llama.gpu,
      devices,
      vram: { totalBytes: vram.total, usedBytes: vram.used, freeBytes: vram.free },
    };
  }

  async cpuMathCores(): Promise<number> {
    return (await this.#getLlama()).cpuMathCores;
  }

  async llamaCppVersion(): Promise<string> {
    const { repo, release } = (await this.#getLlama()).llamaCppRelease;
    return `${release} (${repo})`;
  }

  /** node-llama-cpp does not export its package.json, so read it next to its resolved entry point. */
  nodeLlamaCppVersion(): string {
    const entry = fileURLToPath(import.meta.resolve("node-llama-cpp"));
    const packageJson = new URL("../package.json", `file://${entry}`);
    return (JSON.parse(readFileSync(packageJson, "utf8")) as { version: string }).version;
  }

  async dispose(): Promise<void> {
    const llama = this.#llama;
    this.#llama = undefined;
    if (llama) await (await llama).dispose();
  }
}
