// The answers the crash test's writer streams: known in advance, so the test can check every saved one.
export const CHUNKS_PER_ANSWER = 40;

export function answerChunks(run: number, answer: number): string[] {
  return Array.from({ length: CHUNKS_PER_ANSWER }, (_, k) => (k % 2 === 0 ? `词${k}·run${run}·answer${answer} ` : `token ${k} of answer ${answer}. `));
}
