// The crash test's child: streams answers into a history database through the app's own code (the store,
// the streaming saver) until it is killed. On stdout: "begin <id>" when an answer starts streaming and
// "done <id>" once its final text is committed.
//   node --import tsx test/support/history-crash-writer.ts <database> <run>
import { openDatabase } from "../../src-main/services/storage/database.js";
import { HistoryStore } from "../../src-main/services/history/history-store.js";
import { StreamingAnswer } from "../../src-main/services/history/streaming-answer.js";
import { samplingSchema } from "../../src-main/contract/api.js";
import { answerChunks } from "./crash-answers.js";

const [databasePath, runArg] = process.argv.slice(2) as [string, string];
const run = Number(runArg);
const store = new HistoryStore(openDatabase(databasePath));
store.recoverInterrupted();
const conversation = store.create({ title: `run ${run}`, sampling: samplingSchema.parse({}) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

process.stdout.write("ready\n");
for (let index = 0; ; index++) {
  const question = store.addQuestion(conversation.id, undefined, `question ${index} of run ${run}`);
  const answer = store.beginAnswer(conversation.id, question.id, "crash-test");
  process.stdout.write(`begin ${answer.id} ${index}\n`);
  const streaming = new StreamingAnswer((text) => store.saveStreamingText(answer.id, text), 20);
  for (const chunk of answerChunks(run, index)) {
    streaming.append(chunk);
    await sleep(1);
  }
  streaming.close();
  store.finishAnswer(conversation.id, answer.id, { text: streaming.text, status: "complete" });
  process.stdout.write(`done ${answer.id} ${index}\n`);
}
