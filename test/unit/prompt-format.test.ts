// Which prompt format "auto" gives a GGUF, and why: BiLLa's for BiLLa Desktop's files, for a template that renders
// BiLLa's prompt, and for files without any template; another model's own template otherwise.
import { describe, expect, it } from "vitest";
import { BILLA_CHAT_TEMPLATE } from "../../src-main/services/models/billa-chat-template.js";
import { isBillaTemplate, resolvePromptFormat } from "../../src-main/services/models/prompt-format.js";

/** Qwen/ChatML, as many downloaded GGUFs carry it. */
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
/** Vicuna's, which is close to BiLLa's but not it ("USER:"/"ASSISTANT:"). */
const VICUNA =
  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'USER: ' + message['content'] + '\\n' }}{% else %}{{ 'ASSISTANT: ' + message['content'] + eos_token + '\\n' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT: ' }}{% endif %}";
/** BiLLa's prompt written another way, leaving BOS to the tokenizer (as vLLM templates often do). */
const BILLA_WITHOUT_BOS =
  "{% for m in messages %}{% if m.role == 'user' %}Human: {{ m.content }}\n{% else %}Assistant: {{ m.content }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant: {% endif %}";

describe("isBillaTemplate", () => {
  it("recognises the template BiLLa Desktop writes, and BiLLa's prompt written another way", () => {
    expect(isBillaTemplate(BILLA_CHAT_TEMPLATE)).toBe(true);
    expect(isBillaTemplate(BILLA_WITHOUT_BOS)).toBe(true);
  });

  it("refuses other models' templates, near misses and templates that cannot run", () => {
    expect(isBillaTemplate(CHATML)).toBe(false);
    expect(isBillaTemplate(VICUNA)).toBe(false);
    // One space missing after the colon is another prompt, with other token ids.
    expect(isBillaTemplate(BILLA_WITHOUT_BOS.replace("Assistant: {% endif %}", "Assistant:{% endif %}"))).toBe(false);
    expect(isBillaTemplate("{% for message in messages %}")).toBe(false);
  });
});

describe("resolvePromptFormat", () => {
  const none = { hasBillaMetadata: false, chatTemplate: null };
  it("auto: BiLLa's metadata, BiLLa's template or no template mean BiLLa; another template is kept", () => {
    expect(resolvePromptFormat("auto", { hasBillaMetadata: true, chatTemplate: BILLA_CHAT_TEMPLATE })).toEqual({ format: "billa", reason: "billa-metadata" });
    expect(resolvePromptFormat("auto", { hasBillaMetadata: false, chatTemplate: BILLA_WITHOUT_BOS })).toEqual({ format: "billa", reason: "billa-template" });
    expect(resolvePromptFormat("auto", none)).toEqual({ format: "billa", reason: "no-template" });
    expect(resolvePromptFormat("auto", { hasBillaMetadata: false, chatTemplate: CHATML })).toEqual({ format: "model", reason: "own-template" });
  });

  it("a choice wins over what the file says", () => {
    expect(resolvePromptFormat("model", { hasBillaMetadata: true, chatTemplate: BILLA_CHAT_TEMPLATE })).toEqual({ format: "model", reason: "chosen" });
    expect(resolvePromptFormat("billa", { hasBillaMetadata: false, chatTemplate: CHATML })).toEqual({ format: "billa", reason: "chosen" });
  });
});
