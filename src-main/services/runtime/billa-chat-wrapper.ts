// BiLLa's prompt, exactly as its own script builds it: BOS, then `Human: {q}\nAssistant: {a}` turns joined
// by `\n`, the last one ending in `Assistant: `. The whole prompt is one piece of text so that it is tokenized
// in one go, as BiLLa's script does (SentencePiece over the whole string); fragments tokenized one by one
// ("Human: ", then the question…) give other token ids, and the model answers worse.
//
// System messages (the app has none; API clients send them) are read the way BiLLa's FastChat-style
// conversation code renders its `system` field: the system text and the separator `\n` before the first
// `Human:` line. BiLLa's own system text is empty, which would leave a lone leading `\n` that its script
// strips; so without a system message the prompt is exactly the one above.
import { ChatWrapper, LlamaText, SpecialToken, type ChatHistoryItem, type ChatWrapperGeneratedContextState, type ChatWrapperSettings } from "node-llama-cpp";
import type { Turn } from "../../contract/api.js";

/** The prompt text for `history` followed by `question`, without BOS; a system text goes first, on its own line. */
export function billaPromptText(history: readonly Turn[], question: string, system = ""): string {
  const turns = [...history.map((turn) => `Human: ${turn.question}\nAssistant: ${turn.answer}`), `Human: ${question}\nAssistant: `].join("\n");
  return system === "" ? turns : `${system}\n${turns}`;
}

/** Where the model would start writing the next user's line itself: the answer ends there. */
export const NEXT_TURN_TEXT = "\nHuman:";

function itemText(item: ChatHistoryItem): string {
  if (item.type === "user") return item.text;
  if (item.type === "model") return item.response.filter((part): part is string => typeof part === "string").join("");
  return typeof item.text === "string" ? item.text : LlamaText.fromJSON(item.text).toString();
}

/** node-llama-cpp's history as BiLLa turns plus the question being answered; system items joined by `\n`. */
export function turnsOf(chatHistory: readonly ChatHistoryItem[]): { system: string; history: Turn[]; question: string; answerSoFar: string } {
  const system = chatHistory
    .filter((item) => item.type === "system")
    .map(itemText)
    .join("\n");
  const items = chatHistory.filter((item) => item.type !== "system");
  const history: Turn[] = [];
  let question = "";
  let answerSoFar = "";
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (item.type !== "user") continue;
    const reply = items[i + 1]?.type === "model" ? itemText(items[i + 1]!) : "";
    const isLast = !items.slice(i + 1).some((later) => later.type === "user");
    if (isLast) {
      question = item.text;
      answerSoFar = reply;
    } else {
      history.push({ question: item.text, answer: reply });
    }
  }
  return { system, history, question, answerSoFar };
}

export class BillaChatWrapper extends ChatWrapper {
  readonly wrapperName = "BiLLa";
  // Declared unsupported although system items are rendered: LlamaChatSession would otherwise add its own
  // default system prompt, which BiLLa never saw. Only what a caller passes goes in.
  override readonly settings: ChatWrapperSettings = { ...ChatWrapper.defaultSettings, supportsSystemMessages: false };

  override generateContextState({ chatHistory }: { chatHistory: readonly ChatHistoryItem[] }): ChatWrapperGeneratedContextState {
    const { system, history, question, answerSoFar } = turnsOf(chatHistory);
    // Text after a special token gets no SentencePiece dummy prefix from llama.cpp, so the space that
    // BiLLa's tokenizer puts before the whole prompt is written out.
    return {
      contextText: LlamaText([new SpecialToken("BOS"), ` ${billaPromptText(history, question, system)}${answerSoFar}`]),
      stopGenerationTriggers: [LlamaText(new SpecialToken("EOS")), LlamaText(NEXT_TURN_TEXT)],
    };
  }
}
