import assert from "node:assert/strict";
import { ListChanges, type ListKind, type ListTexts } from "./list_changes.ts";

Deno.test("ListChanges names only the lists whose text differs from what listeners were last told", () => {
  let lists: ListTexts = { tools: "[]", prompts: "[]", resources: "[]" };
  const changes = new ListChanges(() => lists);
  const heard: ListKind[][] = [];
  const stop = changes.onChange((changed) => heard.push([...changed]));
  changes.baseline();

  lists = { ...lists, tools: '["a"]' };
  changes.notify();
  changes.notify(); // nothing new since: an empty change, the version still moves
  lists = { tools: '["a"]', prompts: '["p"]', resources: '["r"]' };
  changes.notify();
  assert.deepEqual(heard, [["tools"], [], ["prompts", "resources"]]);
  assert.equal(changes.version, 3);

  stop();
  lists = { ...lists, tools: "[]" };
  changes.notify();
  assert.equal(heard.length, 3, "an unsubscribed listener hears nothing");
});

Deno.test("ListChanges reads nothing before its baseline, so it can be built before what it reads", () => {
  let reads = 0;
  const changes = new ListChanges(() => {
    reads++;
    return { tools: "[]", prompts: "[]", resources: "[]" };
  });
  assert.equal(reads, 0);
  changes.baseline();
  assert.equal(reads, 1);
});
