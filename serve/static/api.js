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
