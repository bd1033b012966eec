// Grows a SentencePiece tokenizer.model by appending pieces at the protobuf wire level, as BiLLa extended LLaMA's
// tokenizer with Chinese: ModelProto field 1 is repeated, so records appended at the end of the message join the
// list in order, and each new piece gets the next id.
function varint(value: number): number[] {
  const bytes: number[] = [];
  for (; value > 0x7f; value = Math.floor(value / 128)) bytes.push((value & 0x7f) | 0x80);
  bytes.push(value);
  return bytes;
}

/** `model` with `pieces` appended as NORMAL pieces of the given scores. */
export function withExtraPieces(model: Buffer, pieces: readonly { piece: string; score: number }[]): Buffer {
  const records = pieces.map(({ piece, score }) => {
    const text = Buffer.from(piece, "utf8");
    const scoreBytes = Buffer.alloc(4);
    scoreBytes.writeFloatLE(score);
    // SentencePiece { 1: piece (bytes), 2: score (float) }; type stays NORMAL, the default.
    const body = Buffer.concat([Buffer.from([0x0a, ...varint(text.length)]), text, Buffer.from([0x15]), scoreBytes]);
    return Buffer.concat([Buffer.from([0x0a, ...varint(body.length)]), body]);
  });
  return Buffer.concat([model, ...records]);
}
