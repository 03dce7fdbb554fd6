// The translation page: a client of the public /v1 API like any script, so it shows what the API
// answers, its error messages included, and knows no limits of its own.
"use strict";

const $ = (id) => document.getElementById(id);
let models = [];
let glossaries = [];
let busy = false;

function showError(message) {
  $("error").textContent = message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function failed(error) {
  if (error.status === 401) {
    // A key that the server refused is of no use on the next visit either.
    sessionStorage.removeItem(KEY_STORAGE);
    $("key-form").hidden = false;
    $("key").focus();
  }
  showError(error.message);
}

const score = (value) => Number(value).toFixed(2);

function versionLabel(model) {
  const scores = [`BLEU ${score(model.bleu)}`];
  if (model.review_bleu != null) scores.push(`review ${score(model.review_bleu)}`);
  return `${model.id} · ${scores.join(" · ")}${model.default ? " (default)" : ""}`;
}

const pairOf = (model) => `${model.source}-${model.target}`;

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

function fillPairs() {
  const select = $("pair");
  const chosen = select.value;
  const pairs = new Map(models.map((m) => [pairOf(m), `${m.source} → ${m.target}`]));
  select.replaceChildren(...[...pairs].map(([value, text]) => option(value, text)));
  if (pairs.has(chosen)) select.value = chosen;
  fillVersions();
}

function fillVersions() {
  const select = $("version");
  const chosen = select.value;
  // The default first, then the best test BLEU: the order in which one would choose.
  const versions = models.filter((m) => pairOf(m) === $("pair").value)
    .sort((a, b) => (b.default - a.default) || (b.bleu - a.bleu));
  select.replaceChildren(...versions.map((m) => option(m.id, versionLabel(m))));
  if (versions.some((m) => m.id === chosen)) select.value = chosen;
  describeVersion();
}

const termsTrained = (model) => Boolean(model && model.terms && model.terms.trained);

// The glossaries that /v1/models says apply to the chosen pair, when the chosen version can apply terms.
function fillGlossaries() {
  const select = $("glossary");
  const chosen = select.value;
  const model = selectedModel();
  const fitting = termsTrained(model) ? glossaries.filter((g) => g.pairs.includes(pairOf(model))) : [];
  select.replaceChildren(option("", "none"),
    ...fitting.map((g) => option(g.name, `${g.name} · ${g.entry_count} ${g.entry_count === 1 ? "entry" : "entries"}`)));
  if (fitting.some((g) => g.name === chosen)) select.value = chosen;
  let text = "";
  if (model && !termsTrained(model)) {
    text = "This version was not trained to apply glossaries.";
  } else if (model && fitting.length === 0) {
    text = `The server has no glossary for ${model.source} → ${model.target}.`;
  }
  $("glossary-info").textContent = text;
}

function selectedModel() {
  return models.find((m) => m.id === $("version").value);
}

function describeVersion() {
  const model = selectedModel();
  let text = "";
  if (model) {
    text = `Scores on the test set “${model.test_set}”: BLEU ${score(model.bleu)}, chrF ${score(model.chrf)}`;
    if (model.review_bleu != null) text += `; on reviewed translations: BLEU ${score(model.review_bleu)}`;
    text += ".";
  }
  $("version-info").textContent = text;
  fillGlossaries();
}

async function loadModels() {
  try {
    const answer = await api("v1/models");
    models = answer.models;
    glossaries = answer.glossaries || [];
  } catch (error) {
    failed(error);
    return false;
  }
  fillPairs();
  if (models.length === 0) showError("The server has no versions to translate with.");
  return true;
}

function showAlternatives(alternatives) {
  const list = $("alt-list");
  list.replaceChildren(...alternatives.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  list.hidden = $("alt-heading").hidden = alternatives.length === 0;
}

function showTerms(kind, terms) {
  const list = $(`${kind}-list`);
  list.replaceChildren(...terms.map((term) => {
    const item = document.createElement("li");
    item.textContent = `${term.source} → ${term.target}`;
    return item;
  }));
  list.hidden = $(`${kind}-heading`).hidden = terms.length === 0;
  if (kind === "missed") $("missed-hint").hidden = list.hidden;
}

function clearResult() {
  $("target").value = "";
  showAlternatives([]);
  showTerms("applied", []);
  showTerms("missed", []);
}

async function translate() {
  if (busy) return;
  const q = $("source").value;
  if (!q.trim()) {
    showError("Nothing to translate: type a text in the Text box.");
    $("source").focus();
    return;
  }
  const model = selectedModel();
  if (!model) {
    showError("No version to translate with: choose a language pair and a version first.");
    return;
  }
  const body = { q, source: model.source, target: model.target, version: model.id };
  const alternatives = Number($("alternatives").value);
  if (alternatives > 0) body.alternatives = alternatives;
  const glossary = $("glossary").value;
  if (glossary) body.terminology = glossary;
  busy = true;
  $("translate-form").setAttribute("aria-busy", "true");
  setStatus("Translating…");
  try {
    const answer = await api("v1/translate", body);
    $("target").value = answer.translations[0];
    showAlternatives(answer.alternatives ? answer.alternatives[0] : []);
    showTerms("applied", answer.applied_terms ? answer.applied_terms[0] : []);
    showTerms("missed", answer.missed_terms ? answer.missed_terms[0] : []);
    showError("");
    let status = `Translated by ${answer.version} (BLEU ${score(answer.bleu)}).`;
    if (answer.applied_terms) {
      status += ` Glossary ${glossary}: ${answer.applied_terms[0].length} applied, ${answer.missed_terms[0].length} missed.`;
    }
    setStatus(status);
  } catch (error) {
    clearResult();
    setStatus("");
    failed(error);
  } finally {
    busy = false;
    $("translate-form").removeAttribute("aria-busy");
  }
}

async function copy() {
  const target = $("target");
  if (!target.value) {
    setStatus("Nothing to copy yet.");
    return;
  }
  try {
    await navigator.clipboard.writeText(target.value);
  } catch {
    // No clipboard API (plain http to another host is no secure context) or no permission: the old way.
    target.select();
    const copied = document.execCommand("copy");
    $("copy").focus();
    if (!copied) {
      showError("Copying failed: select the translation and press Ctrl+C.");
      return;
    }
  }
  setStatus("Translation copied.");
}

let downloadUrl = null;

async function translateDocument() {
  if (busy) return;
  const file = $("document").files[0];
  if (!file) {
    showError("No document chosen: pick a file first.");
    $("document").focus();
    return;
  }
  const model = selectedModel();
  if (!model) {
    showError("No version to translate with: choose a language pair and a version first.");
    return;
  }
  const fields = { source: model.source, target: model.target, version: model.id };
  if ($("glossary").value) fields.terminology = $("glossary").value;
  busy = true;
  $("document-form").setAttribute("aria-busy", "true");
  $("download").hidden = true;
  setStatus(`Translating ${file.name}…`);
  try {
    const { blob, filename } = await apiDocument(fields, file);
    // The previous document's link lets go of its memory.
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(blob);
    const link = $("download");
    link.href = downloadUrl;
    link.download = filename;
    link.textContent = `Download ${filename}`;
    link.hidden = false;
    showError("");
    setStatus(`${file.name} translated by ${model.id}.`);
    link.focus();
  } catch (error) {
    setStatus("");
    failed(error);
  } finally {
    busy = false;
    $("document-form").removeAttribute("aria-busy");
  }
}

$("document-form").addEventListener("submit", (event) => {
  event.preventDefault();
  translateDocument();
});

$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("key").value.trim());
  if (await loadModels()) {
    showError("");
    setStatus("API key accepted.");
    $("pair").focus();
  }
});

$("translate-form").addEventListener("submit", (event) => {
  event.preventDefault();
  translate();
});

$("translate-form").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    translate();
  }
});

$("pair").addEventListener("change", fillVersions);
$("version").addEventListener("change", describeVersion);
$("copy").addEventListener("click", copy);

loadModels();
