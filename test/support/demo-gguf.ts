import { join } from "node:path";
import { openSourceModel } from "../../src-main/services/conversion/pipeline/source-model.js";
import { convertToGguf } from "../../src-main/services/conversion/pipeline/convert-to-gguf.js";
import { QuantizePool } from "../../src-main/services/conversion/quantize/quantize-pool.js";
import type { OutputTypeName } from "../../src-main/contract/api.js";
import { DEMO } from "./demo.js";

/** Converts the demo checkpoint (released + original LLaMA) into `dir`, as the app does; returns the file. */
export async function makeDemoGguf(dir: string, outType: OutputTypeName = "f16"): Promise<string> {
  const outFile = join(dir, `billa-demo-${outType}.gguf`);
  const pool = new QuantizePool();
  try {
    const model = await openSourceModel({ modelDir: DEMO.released, originalLlama: DEMO.originalPth, method: "decrypt" });
    await convertToGguf({ model, outFile, outType, name: "BiLLa demo", quantizer: pool });
  } finally {
    await pool.close();
  }
  return outFile;
}
