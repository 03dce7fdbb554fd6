// What both pages share: the API key the tab keeps, and calls to the API that turn its JSON errors
// into exceptions with the server's own message. Loaded before each page's own script.
"use strict";

// sessionStorage: the key lasts as long as the tab, and is never written to disk by the page.
const KEY_STORAGE = "s2s.apiKey";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function authHeaders() {
  const key = sessionStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function api(path, body) {
  const init = body === undefined
    ? { headers: authHeaders() }
    : { method: "POST", headers: { "Content-Type": "application/json", ...authHeaders() }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, `The server could not be reached (${e.message}).`);
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    const message = answer && answer.error && answer.error.message;
    throw new ApiError(response.status, message || `${path} answered ${response.status} ${response.statusText}`);
  }
  if (answer === null) {
    throw new ApiError(response.status, `${path} answered with something other than JSON`);
  }
  return answer;
}

// A document to /v1/documents: its translation as a Blob, and the file name the server gives it.
async function apiDocument(fields, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file);
  let response;
  try {
    response = await fetch("v1/documents", { method: "POST", headers: authHeaders(), body: form });
  } catch (e) {
    throw new ApiError(0, `The server could not be reached (${e.message}).`);
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    const message = answer && answer.error && answer.error.message;
    throw new ApiError(response.status, message || `v1/documents answered ${response.status} ${response.statusText}`);
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const named = /filename="([^"]+)"/.exec(disposition);
  return { blob: await response.blob(), filename: named ? named[1] : "translated" };
}
