// Reads a SentencePiece tokenizer.model (a serialized sentencepiece.ModelProto, proto2) into the pieces and
// settings GGUF conversion needs. The file is untrusted: its size is capped, it is decoded strictly, and it is
// checked the way sentencepiece's own loader and llama.cpp's tokenizer rely on.
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import protobuf from "protobufjs";
import { BillaError } from "../../../contract/errors.js";

const MAX_MODEL_BYTES = 64 * 1024 * 1024; // BiLLa's is under 1 MB; the cap bounds what decoding may allocate

const PIECE_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
const MODEL_TYPE = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;
export type PieceType = keyof typeof PIECE_TYPE;
export type ModelType = keyof typeof MODEL_TYPE;

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface SentencePieceModel {
  /** In id order: a piece's index is its id. The trainer's vocab_size may disagree (BiLLa's says 600). */
  pieces: SentencePiece[];
  modelType: ModelType;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  byteFallback: boolean;
  /** As the trainer recorded them; null where it disabled one (SentencePiece writes -1). */
  unkId: number | null;
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
}

// The fields we read, numbered as in sentencepiece_model.proto. Types created from JSON default to proto3, which
// would drop an explicit `false` for a field whose default is `true` (remove_extra_whitespaces), hence the edition.
// proto2 enums are closed: an unknown value reads as the field's default, as sentencepiece's C++ reads it.
// `piece` is read as bytes so that invalid UTF-8 is refused instead of silently replaced.
const proto = protobuf.Root.fromJSON({
  nested: {
    ModelProto: {
      edition: "proto2",
      fields: {
        pieces: { rule: "repeated", type: "SentencePiece", id: 1 },
        trainerSpec: { type: "TrainerSpec", id: 2 },
        normalizerSpec: { type: "NormalizerSpec", id: 3 },
      },
      nested: {
        SentencePiece: {
          fields: {
            piece: { type: "bytes", id: 1 },
            score: { type: "float", id: 2 },
            type: { type: "Type", id: 3, options: { default: "NORMAL" } },
          },
          nested: { Type: { values: PIECE_TYPE } },
        },
      },
    },
    TrainerSpec: {
      edition: "proto2",
      fields: {
        modelType: { type: "ModelType", id: 3, options: { default: "UNIGRAM" } },
        byteFallback: { type: "bool", id: 35, options: { default: false } },
        unkId: { type: "int32", id: 40, options: { default: 0 } },
        bosId: { type: "int32", id: 41, options: { default: 1 } },
        eosId: { type: "int32", id: 42, options: { default: 2 } },
        padId: { type: "int32", id: 43, options: { default: -1 } },
      },
      nested: { ModelType: { values: MODEL_TYPE } },
    },
    NormalizerSpec: {
      edition: "proto2",
      fields: {
        addDummyPrefix: { type: "bool", id: 3, options: { default: true } },
        removeExtraWhitespaces: { type: "bool", id: 4, options: { default: true } },
      },
    },
  },
});
const ModelProto = proto.lookupType("ModelProto");
const TrainerSpec = proto.lookupType("TrainerSpec");
const NormalizerSpec = proto.lookupType("NormalizerSpec");

/** toObject's output for these options. */
const AS_PLAIN_DATA: protobuf.IConversionOptions = { defaults: true, enums: String };
interface DecodedTrainerSpec {
  modelType: ModelType;
  byteFallback: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
}
interface DecodedNormalizerSpec {
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
}
interface DecodedModel {
  pieces: { piece: Uint8Array; score: number; type: PieceType }[];
  trainerSpec: DecodedTrainerSpec | null;
  normalizerSpec: DecodedNormalizerSpec | null;
}

/** A spec the file leaves out reads as all defaults, as in sentencepiece. */
function defaultsOf<T>(type: protobuf.Type): T {
  return type.toObject(type.create(), AS_PLAIN_DATA) as T;
}

const BYTE_PIECES = Array.from({ length: 256 }, (_, byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);

/** The ids of the first text that occurs twice, or null. */
export function findDuplicate(texts: readonly string[]): [first: number, second: number] | null {
  const seen = new Map<string, number>();
  for (const [id, text] of texts.entries()) {
    const first = seen.get(text);
    if (first !== undefined) return [first, id];
    seen.set(text, id);
  }
  return null;
}

export async function readSentencePieceModel(file: string): Promise<SentencePieceModel> {
  const name = basename(file);
  const fail = (problem: string) => new BillaError("bad_file", `${name} ${problem}`);
  const damaged = (problem: string) => fail(`is damaged: ${problem}. Download BiLLa's tokenizer.model again.`);

  const { size } = await stat(file);
  if (size > MAX_MODEL_BYTES) throw fail(`is ${Math.round(size / 2 ** 20)} MB, far too large for a SentencePiece model. Choose BiLLa's tokenizer.model.`);
  const bytes = await readFile(file);
  let decoded: DecodedModel;
  try {
    decoded = ModelProto.toObject(ModelProto.decode(bytes), AS_PLAIN_DATA) as DecodedModel;
  } catch {
    throw fail("is not a SentencePiece model (it does not decode as one). Choose the tokenizer.model that came with BiLLa, or download it again.");
  }
  if (decoded.pieces.length === 0) throw fail("is not a SentencePiece model (it holds no pieces). Choose the tokenizer.model that came with BiLLa.");
  const trainer = decoded.trainerSpec ?? defaultsOf<DecodedTrainerSpec>(TrainerSpec);
  const normalizer = decoded.normalizerSpec ?? defaultsOf<DecodedNormalizerSpec>(NormalizerSpec);

  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }); // a piece may start with U+FEFF: keep it
  const pieces = decoded.pieces.map(({ piece: pieceBytes, score, type }, id): SentencePiece => {
    if (pieceBytes.length === 0) throw damaged(`piece ${id} is empty`);
    let piece: string;
    try {
      piece = utf8.decode(pieceBytes);
    } catch {
      throw damaged(`piece ${id} is not valid UTF-8`);
    }
    return { piece, score, type };
  });

  const duplicate = findDuplicate(pieces.map(({ piece }) => piece));
  if (duplicate) {
    const [first, second] = duplicate;
    throw fail(`defines the piece "${pieces[first]!.piece}" twice (ids ${first} and ${second}); llama.cpp cannot load a vocabulary with duplicate tokens. Use the tokenizer.model published with BiLLa.`);
  }
  // sentencepiece refuses to load a model without exactly one unknown piece.
  if (pieces.filter(({ type }) => type === "UNKNOWN").length !== 1) throw damaged("it must have exactly one <unk> piece");
  // llama.cpp encodes any character outside the vocabulary through these pieces, looked up by their text.
  const texts = new Set(pieces.map(({ piece }) => piece));
  const missingByte = BYTE_PIECES.find((text) => !texts.has(text));
  if (missingByte) throw fail(`lacks the byte piece ${missingByte}, which llama.cpp needs for characters outside the vocabulary. Use the tokenizer.model published with BiLLa.`);

  const id = (value: number) => (value >= 0 ? value : null);
  return {
    pieces,
    modelType: trainer.modelType,
    addDummyPrefix: normalizer.addDummyPrefix,
    removeExtraWhitespaces: normalizer.removeExtraWhitespaces,
    byteFallback: trainer.byteFallback,
    unkId: id(trainer.unkId),
    bosId: id(trainer.bosId),
    eosId: id(trainer.eosId),
    padId: id(trainer.padId),
  };
}
