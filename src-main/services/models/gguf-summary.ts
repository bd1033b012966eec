// What the model library shows of a GGUF file, read from its header (never its weights).
import { readGgufFileInfo } from "node-llama-cpp";
import { Keys, LlamaFileType, metadataValue } from "../conversion/gguf/gguf-types.js";
import { promptFactsOf } from "./prompt-format.js";

export interface GgufSummary {
  name: string | null;
  architecture: string | null;
  parameterCount: number;
  fileType: string | null;
  contextLength: number | null;
  chatTemplate: string | null;
  /** Written by BiLLa Desktop (billa.prompt_format). */
  isBilla: boolean;
}

const asString = (value: unknown) => (typeof value === "string" ? value : null);
const asNumber = (value: unknown) => (typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : null);

/** Throws when the file is not a GGUF llama.cpp can read. */
export async function readGgufSummary(path: string): Promise<GgufSummary> {
  const info = await readGgufFileInfo(path, { logWarnings: false, ignoreKeys: [Keys.Tokenizer.TOKENS, Keys.Tokenizer.SCORES, Keys.Tokenizer.TOKEN_TYPE] });
  const metadata = info.metadata;
  const architecture = asString(metadataValue(metadata, Keys.General.ARCHITECTURE));
  const fileType = asNumber(metadataValue(metadata, Keys.General.FILE_TYPE));
  const prompt = promptFactsOf(metadata);
  return {
    name: asString(metadataValue(metadata, Keys.General.NAME)),
    architecture,
    parameterCount: (info.tensorInfo ?? []).reduce((total, tensor) => total + tensor.dimensions.reduce<number>((count, dim) => count * Number(dim), 1), 0),
    // llama.cpp names file types MOSTLY_Q4_K_M; people say Q4_K_M.
    fileType: fileType === null ? null : (LlamaFileType[fileType]?.replace(/^(MOSTLY|ALL)_/, "") ?? `type ${fileType}`),
    contextLength: architecture ? asNumber(metadataValue(metadata, `${architecture}.context_length`)) : null,
    chatTemplate: prompt.chatTemplate,
    isBilla: prompt.hasBillaMetadata,
  };
}
