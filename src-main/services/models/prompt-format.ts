// Which prompt format a model gets, and why. BiLLa's prompt is exact (`Human: …\nAssistant: ` turns after BOS),
// and node-llama-cpp's automatic choice gets it wrong for a file that does not say it is BiLLa: it picks a generic
// `### Human` wrapper for a LLaMA without a chat template. This is a BiLLa app, so "auto" reads the file: BiLLa
// Desktop's own metadata or a template that renders BiLLa's prompt mean BiLLa, and so does no template at all
// (a LLaMA-family file without one has no better guess); only a file with another model's template keeps it.
import { Template } from "@huggingface/jinja";
import type { PromptFormat, ResolvedPromptFormat } from "../../contract/api.js";
import { Keys, metadataValue } from "../conversion/gguf/gguf-types.js";

/** What the file says about its prompt format. */
export interface PromptFacts {
  /** Written by BiLLa Desktop's converter (billa.prompt_format = "billa"). */
  hasBillaMetadata: boolean;
  chatTemplate: string | null;
}

export function promptFactsOf(metadata: unknown): PromptFacts {
  const template = metadataValue(metadata, Keys.Tokenizer.CHAT_TEMPLATE);
  return {
    hasBillaMetadata: metadataValue(metadata, Keys.Billa.PROMPT_FORMAT) === "billa",
    chatTemplate: typeof template === "string" && template.trim() !== "" ? template : null,
  };
}

/** A two-turn conversation and the exact text BiLLa's script would build for it. */
const PROBE = {
  messages: [
    { role: "user", content: "Q1" },
    { role: "assistant", content: "A1" },
    { role: "user", content: "Q2" },
  ],
  bos: "<s>",
  prompt: "Human: Q1\nAssistant: A1\nHuman: Q2\nAssistant: ",
};

/** Whether a Jinja chat template renders BiLLa's prompt (with or without writing BOS itself). */
export function isBillaTemplate(template: string): boolean {
  let rendered: string;
  try {
    rendered = new Template(template).render({ messages: PROBE.messages, add_generation_prompt: true, bos_token: PROBE.bos, eos_token: "</s>" });
  } catch {
    return false; // a template this engine cannot run is certainly not BiLLa's
  }
  return rendered === PROBE.prompt || rendered === PROBE.bos + PROBE.prompt;
}

export function resolvePromptFormat(choice: PromptFormat, facts: PromptFacts): ResolvedPromptFormat {
  if (choice !== "auto") return { format: choice, reason: "chosen" };
  if (facts.hasBillaMetadata) return { format: "billa", reason: "billa-metadata" };
  if (facts.chatTemplate === null) return { format: "billa", reason: "no-template" };
  if (isBillaTemplate(facts.chatTemplate)) return { format: "billa", reason: "billa-template" };
  return { format: "model", reason: "own-template" };
}
