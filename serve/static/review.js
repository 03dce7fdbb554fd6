// The review page: a client of /v1/review like any script. It keeps the items it has shown in
// `items`, so that j and k move through them; the server keeps every verdict.
"use strict";

// Items fetched at once, and how close to the end of them the next batch is fetched.
const BATCH = 20;
const LOOKAHEAD = 3;

const $ = (id) => document.getElementById(id);
const VERDICT_TEXT = { good: "good", edit: "needs an edit", bad: "bad" };

let items = [];
let index = 0;
let exhausted = false;
let busy = false;

function failed(error) {
  if (error.status === 401 || error.status === 403) {
    // A key the server refused, or one without the reviewer role, is of no use here.
    sessionStorage.removeItem(KEY_STORAGE);
    $("key-form").hidden = false;
    $("key").focus();
  }
  $("error").textContent = error.message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function showProgress(progress) {
  $("reviewed").textContent = `${progress.reviewed} of ${progress.total} reviewed`;
  $("today").textContent = `your count today (UTC): ${progress.today}`;
}

const current = () => items[index];

function render() {
  const item = current();
  $("card").hidden = !item;
  $("done").hidden = Boolean(item) || !exhausted;
  closeEditor(false);
  if (!item) return;
  $("source").textContent = item.source;
  $("translation").textContent = item.translation;
  $("meta").textContent = `Item ${index + 1} of ${items.length} on this page · version ${item.version} · `
    + `${item.engine} · from ${item.origin}`;
  const verdict = $("verdict");
  verdict.className = `verdict ${item.verdict || ""}`;
  verdict.textContent = item.verdict
    ? `Verdict: ${VERDICT_TEXT[item.verdict]}${item.verdict === "edit" ? ` → ${item.correction}` : ""}`
    : "";
  $("previous").disabled = index === 0;
}

async function fetchMore() {
  if (exhausted) return;
  const after = items.length ? items[items.length - 1].id : 0;
  const answer = await api(`/v1/review/queue?limit=${BATCH}&after=${after}`);
  // Another reviewer may have returned an item this page already holds.
  const known = new Set(items.map((item) => item.id));
  items.push(...answer.items.filter((item) => !known.has(item.id)));
  exhausted = answer.items.length < BATCH;
  showProgress(answer.progress);
}

async function go(to) {
  index = Math.max(0, Math.min(to, items.length));
  if (items.length - index <= LOOKAHEAD) await fetchMore();
  render();
}

async function run(action) {
  if (busy) return;
  busy = true;
  $("error").textContent = "";
  try {
    await action();
  } catch (e) {
    failed(e);
  } finally {
    busy = false;
  }
}

function replace(item) {
  const at = items.findIndex((known) => known.id === item.id);
  if (at >= 0) {
    items[at] = item;
    return at;
  }
  // An undone verdict from an earlier visit: its item comes back where the reviewer is.
  items.splice(index, 0, item);
  return index;
}

function rate(verdict, correction) {
  const item = current();
  if (!item) return;
  run(async () => {
    const body = verdict === "edit" ? { verdict, correction } : { verdict };
    const answer = await api(`/v1/review/items/${item.id}`, body);
    replace(answer.item);
    showProgress(answer.progress);
    setStatus(`Saved: ${VERDICT_TEXT[verdict]}.`);
    await go(index + 1);
    $("card").focus();
  });
}

function undo() {
  run(async () => {
    const answer = await api("/v1/review/undo", {});
    const at = replace(answer.item);
    showProgress(answer.progress);
    setStatus(`Undone: ${VERDICT_TEXT[answer.undone.verdict]} on item ${answer.item.id}.`);
    await go(at);
    $("card").focus();
  });
}

function openEditor() {
  const item = current();
  if (!item) return;
  $("editor").hidden = false;
  const field = $("correction");
  field.value = item.verdict === "edit" ? item.correction : item.translation;
  field.focus();
  field.setSelectionRange(field.value.length, field.value.length);
}

function closeEditor(refocus = true) {
  $("editor").hidden = true;
  if (refocus) $("card").focus();
}

function saveEdit() {
  const correction = $("correction").value.trim();
  if (!correction) {
    $("error").textContent = "The correction is blank: type the corrected translation, or press Escape.";
    return;
  }
  rate("edit", correction);
}

function toggleHelp() {
  const help = $("help");
  help.hidden = !help.hidden;
  $("help-button").setAttribute("aria-expanded", String(!help.hidden));
}

const KEYS = {
  "1": () => rate("good"),
  "2": openEditor,
  "3": () => rate("bad"),
  j: () => run(() => go(index + 1)),
  k: () => run(() => go(index - 1)),
  u: undo,
  "?": toggleHelp,
};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target === $("correction")) {
    // Enter saves, so a correction is one line, as the exported TSV needs it.
    if (event.key === "Enter") {
      event.preventDefault();
      saveEdit();
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeEditor();
    }
    return;
  }
  // Typing a key into the key field is not a verdict.
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
  const action = KEYS[event.key];
  if (!action || (!$("key-form").hidden && event.key !== "?")) return;
  event.preventDefault();
  action();
}

function start() {
  $("card").tabIndex = -1;
  document.addEventListener("keydown", onKey);
  $("good").addEventListener("click", () => rate("good"));
  $("edit").addEventListener("click", openEditor);
  $("bad").addEventListener("click", () => rate("bad"));
  $("previous").addEventListener("click", () => run(() => go(index - 1)));
  $("next").addEventListener("click", () => run(() => go(index + 1)));
  $("undo").addEventListener("click", undo);
  $("help-button").addEventListener("click", toggleHelp);
  $("cancel").addEventListener("click", () => closeEditor());
  $("editor").addEventListener("submit", (event) => {
    event.preventDefault();
    saveEdit();
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $("key").value.trim());
    $("key").value = "";
    $("key-form").hidden = true;
    load();
  });
  load();
}

function load() {
  items = [];
  index = 0;
  exhausted = false;
  run(async () => {
    await go(0);
    if (current()) $("card").focus();
  });
}

document.addEventListener("DOMContentLoaded", start);
