// BiLLa's prompt, exactly as its own script builds it: BOS, then `Human: {q}\nAssistant: {a}` turns joined
// by `\n`, the last one ending in `Assistant: `. The whole prompt is one piece of text so that it is tokenized
// in one go, as BiLLa's script does (SentencePiece over the whole string); fragments tokenized one by one
// ("Human: ", then the question…) give other token ids, and the model answers worse.
import { ChatWrapper, LlamaText, SpecialToken, type ChatHistoryItem, type ChatWrapperGeneratedContextState, type ChatWrapperSettings } from "node-llama-cpp";
import type { Turn } from "../../contract/api.js";

/** The prompt text for `history` followed by `question`, without BOS. */
export function billaPromptText(history: readonly Turn[], question: string): string {
  return [...history.map((turn) => `Human: ${turn.question}\nAssistant: ${turn.answer}`), `Human: ${question}\nAssistant: `].join("\n");
}

/** Where the model would start writing the next user's line itself: the answer ends there. */
export const NEXT_TURN_TEXT = "\nHuman:";

function itemText(item: ChatHistoryItem): string {
  if (item.type === "user") return item.text;
  if (item.type === "model") return item.response.filter((part): part is string => typeof part === "string").join("");
  return "";
}

/** node-llama-cpp's history (user/model items) as BiLLa turns plus the question being answered. */
export function turnsOf(chatHistory: readonly ChatHistoryItem[]): { history: Turn[]; question: string; answerSoFar: string } {
  // BiLLa has no system prompt; the wrapper declares so, and any system item is left out.
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
  return { history, question, answerSoFar };
}

export class BillaChatWrapper extends ChatWrapper {
  readonly wrapperName = "BiLLa";
  override readonly settings: ChatWrapperSettings = { ...ChatWrapper.defaultSettings, supportsSystemMessages: false };

  override generateContextState({ chatHistory }: { chatHistory: readonly ChatHistoryItem[] }): ChatWrapperGeneratedContextState {
    const { history, question, answerSoFar } = turnsOf(chatHistory);
    // Text after a special token gets no SentencePiece dummy prefix from llama.cpp, so the space that
    // BiLLa's tokenizer puts before the whole prompt is written out.
    return {
      contextText: LlamaText([new SpecialToken("BOS"), ` ${billaPromptText(history, question)}${answerSoFar}`]),
      stopGenerationTriggers: [LlamaText(new SpecialToken("EOS")), LlamaText(NEXT_TURN_TEXT)],
    };
  }
}
