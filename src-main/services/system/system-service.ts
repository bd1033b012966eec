import { arch, cpus, freemem, platform, release, totalmem } from "node:os";
import type { SystemInfo } from "../../contract/api.js";
import type { LlamaRuntime } from "../runtime/llama-runtime.js";

/** What this computer offers to run a model, as node-llama-cpp sees it. */
export class SystemService {
  constructor(
    private readonly runtime: LlamaRuntime,
    private readonly appVersion: string,
  ) {}

  async info(): Promise<SystemInfo> {
    const [gpu, mathCores, llamaCpp, llama] = await Promise.all([
      this.runtime.gpuState(),
      this.runtime.cpuMathCores(),
      this.runtime.llamaCppVersion(),
      this.runtime.llamaBuild(),
    ]);
    const cpuList = cpus();
    return {
      os: { platform: platform(), release: release(), arch: arch() },
      cpu: { model: cpuList[0]?.model.trim() ?? "unknown", logicalCores: Math.max(1, cpuList.length), mathCores },
      ram: { totalBytes: totalmem(), freeBytes: freemem() },
      gpu,
      llama,
      versions: {
        app: this.appVersion,
        node: process.versions.node,
        electron: process.versions["electron"] ?? null,
        nodeLlamaCpp: this.runtime.nodeLlamaCppVersion(),
        llamaCpp,
      },
    };
  }
}
