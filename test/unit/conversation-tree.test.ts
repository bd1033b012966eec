// Reading a conversation's tree, as the services and the UI both do.
import { describe, expect, it } from "vitest";
import { alternativesOf, branchOf, latestLeaf } from "../../src-main/contract/conversation-tree.js";

type Node = { id: string; parentId: string | null; role: "user" | "assistant"; createdAt: string };
const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();

// q1 ─ a1 ─ q2 ─ a2
//    ├ a1b (regenerated)      q1b (edited) ─ a3
const tree: Node[] = [
  { id: "q1", parentId: null, role: "user", createdAt: at(1) },
  { id: "a1", parentId: "q1", role: "assistant", createdAt: at(2) },
  { id: "q2", parentId: "a1", role: "user", createdAt: at(3) },
  { id: "a2", parentId: "q2", role: "assistant", createdAt: at(4) },
  { id: "a1b", parentId: "q1", role: "assistant", createdAt: at(5) },
  { id: "q1b", parentId: null, role: "user", createdAt: at(6) },
  { id: "a3", parentId: "q1b", role: "assistant", createdAt: at(7) },
];

describe("a conversation's tree", () => {
  it("reads the branch from the first question down to a leaf", () => {
    expect(branchOf(tree, "a2").map((node) => node.id)).toEqual(["q1", "a1", "q2", "a2"]);
    expect(branchOf(tree, "a3").map((node) => node.id)).toEqual(["q1b", "a3"]);
    expect(branchOf(tree, null)).toEqual([]);
    expect(branchOf(tree, "nope")).toEqual([]);
  });

  it("lists a message's alternatives, oldest first", () => {
    expect(alternativesOf(tree, tree[1]!).map((node) => node.id)).toEqual(["a1", "a1b"]);
    expect(alternativesOf(tree, tree[0]!).map((node) => node.id)).toEqual(["q1", "q1b"]);
    expect(alternativesOf(tree, tree[3]!).map((node) => node.id)).toEqual(["a2"]);
  });

  it("follows the newest child down to a leaf", () => {
    expect(latestLeaf(tree, "q1")).toBe("a1b");
    expect(latestLeaf(tree, "a1")).toBe("a2");
    expect(latestLeaf(tree, "a3")).toBe("a3");
  });

  it("refuses a damaged tree that loops instead of hanging", () => {
    const loop: Node[] = [
      { id: "x", parentId: "y", role: "user", createdAt: at(1) },
      { id: "y", parentId: "x", role: "assistant", createdAt: at(2) },
    ];
    expect(() => branchOf(loop, "x")).toThrow(/cycle/);
    expect(() => latestLeaf(loop, "x")).toThrow(/cycle/);
  });
});
