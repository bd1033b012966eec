// A side-by-side comparison as a file, in the conversation exports' formats: each question becomes a conversation
// whose answers are alternatives, one per model (so the JSON export can be imported into the history, where the
// alternative switcher flips between the models), and Markdown, HTML and text show every model's answer. The
// jsonl is BiLLa's answer file (question_id, text, answer_id, model_id, metadata) plus the model of each answer.
import { randomUUID } from "node:crypto";
import type { Comparison, ExportFormat, HistoryExport, Message } from "../../contract/api.js";
import { HISTORY_EXPORT_FORMAT, samplingSchema } from "../../contract/api.js";
import { exportHistory, type ExportFile } from "../history/history-export.js";

const TITLE_LENGTH = 80;

export function comparisonAsHistory(comparison: Comparison): HistoryExport {
  const at = comparison.createdAt;
  return {
    format: HISTORY_EXPORT_FORMAT,
    version: 1,
    conversations: comparison.questions.map((question) => {
      const conversationId = randomUUID();
      const asked: Message = { id: randomUUID(), conversationId, parentId: null, role: "user", text: question.text, status: "complete", error: null, stats: null, model: null, createdAt: at, updatedAt: at };
      const answers = question.answers.map(
        (answer, index): Message => ({
          id: randomUUID(),
          conversationId,
          parentId: asked.id,
          role: "assistant",
          text: answer.text,
          status: "complete",
          error: null,
          stats: answer.stats,
          model: comparison.models[index]?.name ?? null,
          createdAt: at,
          updatedAt: at,
        }),
      );
      return {
        id: conversationId,
        title: [...question.text.replace(/\s+/g, " ").trim()].slice(0, TITLE_LENGTH).join(""),
        modelId: null,
        source: "app" as const,
        sampling: samplingSchema.parse({ temperature: 0 }),
        currentMessageId: answers[0]?.id ?? asked.id,
        pinned: false,
        archived: false,
        deletedAt: null,
        createdAt: at,
        updatedAt: at,
        messages: [asked, ...answers],
      };
    }),
  };
}

/** BiLLa's answer-file lines, one per model and question, with the model that wrote each answer. */
function answerLines(comparison: Comparison): string {
  return comparison.questions
    .flatMap((question) =>
      question.answers.map((answer, index) => {
        const model = comparison.models[index]!;
        return `${JSON.stringify({
          question_id: question.id,
          text: answer.text,
          answer_id: randomUUID(),
          model_id: model.name,
          metadata: { question: question.text, stats: answer.stats, created_at: comparison.createdAt },
          model: { name: model.name, path: model.path, file_type: model.fileType },
        })}\n`;
      }),
    )
    .join("");
}

export function exportComparison(comparison: Comparison, format: ExportFormat): ExportFile {
  const baseName = `billa-comparison-${comparison.createdAt.slice(0, 10)}`;
  if (format === "jsonl") return { fileName: `${baseName}.jsonl`, mimeType: "application/jsonl", content: answerLines(comparison) };
  return exportHistory(comparisonAsHistory(comparison), format, { allAnswers: true, baseName });
}
