// A pickle reader for PyTorch checkpoints that runs nothing. Python's own unpickler calls whatever global a
// file names (`os.system`, `builtins.eval`); this one knows the few globals `torch.save` writes for a state
// dict and refuses everything else, naming it. Written by hand because no maintained JavaScript library
// reads pickles against an allow-list: the general ones build arbitrary objects.
import { BillaError } from "../../../contract/errors.js";

/** A storage as a checkpoint's persistent id names it: its data is the zip entry `data/<key>`. */
export interface StorageRef {
  kind: "storage";
  storageType: string;
  key: string;
  elementCount: number;
}

/** What `torch._utils._rebuild_tensor_v2` would build, described instead of built. */
export interface TensorRef {
  kind: "tensor";
  storage: StorageRef;
  storageOffset: number;
  shape: number[];
  stride: number[];
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | TensorRef
  | StorageRef
  | GlobalRef;

export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** Dicts are Maps so that keys like `__proto__` stay data. */
export class PickleDict extends Map<PickleValue, PickleValue> {}

interface GlobalRef {
  kind: "global";
  name: string;
}

/** Storage classes torch.save names, with the element type each holds. */
export const STORAGE_DTYPES = {
  "torch.HalfStorage": "F16",
  "torch.FloatStorage": "F32",
  "torch.BFloat16Storage": "BF16",
  "torch.DoubleStorage": "F64",
  "torch.LongStorage": "I64",
  "torch.IntStorage": "I32",
} as const;

const TENSOR_REBUILDERS = new Set(["torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor"]);
const ALLOWED_GLOBALS = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_parameter",
  ...TENSOR_REBUILDERS,
  ...Object.keys(STORAGE_DTYPES),
]);

const MARK = Symbol("mark");
type StackItem = PickleValue | typeof MARK;

const MAX_STACK = 1_000_000;
const MAX_MEMO = 10_000_000;

function refuse(what: string): never {
  throw new BillaError(
    "bad_file",
    `This checkpoint's pickle ${what}. BiLLa Desktop reads only plain PyTorch state dicts and runs no code from files; re-save the weights with torch.save(model.state_dict(), …) or as safetensors.`,
  );
}

function asInt(value: PickleValue | undefined, what: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "bigint" && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  return refuse(`has an invalid ${what}`);
}

function asIntTuple(value: PickleValue | undefined, what: string): number[] {
  if (!(value instanceof PickleTuple)) return refuse(`has an invalid ${what}`);
  return value.items.map((item) => asInt(item, what));
}

function applyGlobal(fn: GlobalRef, args: PickleValue[]): PickleValue {
  if (fn.name === "collections.OrderedDict") {
    if (args.length !== 0) refuse("builds an OrderedDict from arguments");
    return new PickleDict();
  }
  if (fn.name === "torch._utils._rebuild_parameter") {
    const data = args[0];
    if (!data || typeof data !== "object" || !("kind" in data) || data.kind !== "tensor") refuse("wraps something other than a tensor in a Parameter");
    return data;
  }
  if (TENSOR_REBUILDERS.has(fn.name)) {
    const storage = args[0];
    if (!storage || typeof storage !== "object" || !("kind" in storage) || storage.kind !== "storage") refuse("rebuilds a tensor without a storage");
    return {
      kind: "tensor",
      storage,
      storageOffset: asInt(args[1], "storage offset"),
      shape: asIntTuple(args[2], "tensor shape"),
      stride: asIntTuple(args[3], "tensor stride"),
    };
  }
  return refuse(`calls ${fn.name}`);
}

function persistentLoad(pid: PickleValue): StorageRef {
  if (!(pid instanceof PickleTuple) || pid.items[0] !== "storage" || pid.items.length < 5) {
    refuse("refers to data other than a tensor storage");
  }
  const [, storageType, key, , count] = pid.items;
  if (!storageType || typeof storageType !== "object" || !("kind" in storageType) || storageType.kind !== "global" || !(storageType.name in STORAGE_DTYPES)) {
    refuse("names an unknown storage type");
  }
  if (typeof key !== "string" || !/^\w{1,64}$/.test(key)) refuse("names a storage with an invalid key");
  return { kind: "storage", storageType: storageType.name, key, elementCount: asInt(count, "storage size") };
}

/** Reads a pickle (protocols 2–5) holding a state dict; returns its top-level value. */
export function unpickle(data: Buffer): PickleValue {
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const need = (n: number) => {
    if (n < 0 || pos + n > data.length) refuse("is truncated");
    const start = pos;
    pos += n;
    return start;
  };
  const u8 = () => data[need(1)]!;
  const u16 = () => data.readUInt16LE(need(2));
  const u32 = () => data.readUInt32LE(need(4));
  const u64 = () => {
    const value = data.readBigUInt64LE(need(8));
    if (value > BigInt(data.length)) refuse("has a length beyond its end");
    return Number(value);
  };
  const text = (n: number) => data.toString("utf8", need(n), pos);
  const line = () => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256) refuse("has a malformed global name");
    const value = data.toString("latin1", pos, end);
    pos = end + 1;
    return value;
  };
  const push = (value: StackItem) => {
    if (stack.length >= MAX_STACK) refuse("is nested too deeply");
    stack.push(value);
  };
  const pop = (): PickleValue => {
    const value = stack.pop();
    if (value === undefined || value === MARK) return refuse("pops from an empty stack");
    return value;
  };
  const top = (): PickleValue => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === MARK) return refuse("uses an empty stack");
    return value;
  };
  const popToMark = (): PickleValue[] => {
    const at = marks.pop();
    if (at === undefined) refuse("closes a group it never opened");
    const items = stack.splice(at) as PickleValue[];
    items.shift();
    return items;
  };
  const remember = (index: number) => {
    if (index > MAX_MEMO) refuse("uses too many memo slots");
    memo.set(index, top());
  };
  const recall = (index: number) => {
    const value = memo.get(index);
    if (value === undefined) refuse("refers to a value it never stored");
    push(value);
  };
  const global = (module: string, name: string) => {
    const fullName = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(fullName)) refuse(`wants to load the Python global ${fullName}, which a state dict never needs`);
    push({ kind: "global", name: fullName });
  };
  const setItems = (target: PickleValue, items: PickleValue[]) => {
    if (!(target instanceof PickleDict) || items.length % 2) refuse("sets items on something that is not a dict");
    for (let i = 0; i < items.length; i += 2) target.set(items[i]!, items[i + 1]!);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) refuse("uses an unknown protocol");
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        push(new PickleDict());
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PickleTuple([]));
        break;
      case 0x74: // TUPLE
        push(new PickleTuple(popToMark()));
        break;
      case 0x85: // TUPLE1
        push(new PickleTuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        push(new PickleTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(new PickleTuple([pop(), b, c]));
        break;
      }
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x4a: // BININT
        push(data.readInt32LE(need(4)));
        break;
      case 0x8a: { // LONG1
        const n = u8();
        if (n > 8) refuse("holds an integer too large for a tensor size");
        const start = need(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[start + i]!);
        if (n > 0 && data[start + n - 1]! & 0x80) value -= 1n << BigInt(8 * n);
        push(Number.isSafeInteger(Number(value)) ? Number(value) : value);
        break;
      }
      case 0x47: // BINFLOAT
        push(data.readDoubleBE(need(8)));
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x55: // SHORT_BINSTRING
        push(data.toString("latin1", need(u8()), pos));
        break;
      case 0x54: // BINSTRING
        push(data.toString("latin1", need(u32()), pos));
        break;
      case 0x71: // BINPUT
        remember(u8());
        break;
      case 0x72: // LONG_BINPUT
        remember(u32());
        break;
      case 0x94: // MEMOIZE
        remember(memo.size);
        break;
      case 0x68: // BINGET
        recall(u8());
        break;
      case 0x6a: // LONG_BINGET
        recall(u32());
        break;
      case 0x63: // GLOBAL
        global(line(), line());
        break;
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") refuse("has a malformed global name");
        global(module, name);
        break;
      }
      case 0x51: // BINPERSID
        push(persistentLoad(pop()));
        break;
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(args instanceof PickleTuple) || !fn || typeof fn !== "object" || !("kind" in fn) || fn.kind !== "global") {
          refuse("calls something that is not an allowed function");
        }
        push(applyGlobal(fn, args.items));
        break;
      }
      case 0x62: { // BUILD: HF state dicts set `_metadata` on the root OrderedDict; keep the dict as it is.
        pop();
        if (!(top() instanceof PickleDict)) refuse("sets the state of an object that is not a dict");
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popToMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) refuse("appends to something that is not a list");
        list.push(value);
        break;
      }
      case 0x65: { // APPENDS
        const items = popToMark();
        const list = top();
        if (!Array.isArray(list)) refuse("appends to something that is not a list");
        list.push(...items);
        break;
      }
      default:
        refuse(`uses pickle opcode 0x${op.toString(16).padStart(2, "0")}, which a state dict never needs`);
    }
  }
}
