// The web chat page: streams replies from /v1/chat/completions, renders fenced code
// blocks, and has stop, temperature, max tokens and an optional API key. Everything the
// page needs is in this one string.
#include "apps/server/web_page.h"

namespace omnicoder::server {

const char kWebPage[] = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OmniCoder chat</title>
<style>
  :root { color-scheme: light dark; --bg: #f7f7f8; --fg: #1d1d1f; --muted: #6e6e73; --me: #dbeafe; --bot: #ffffff; --code: #0f172a; --codefg: #e2e8f0; --border: #d2d2d7; }
  @media (prefers-color-scheme: dark) { :root { --bg: #161618; --fg: #ececf1; --muted: #9a9aa0; --me: #1e3a5f; --bot: #232326; --border: #3a3a3f; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: var(--bg); color: var(--fg); display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; gap: 12px; align-items: center; padding: 8px 16px; border-bottom: 1px solid var(--border); flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  header label { color: var(--muted); font-size: 13px; display: flex; gap: 6px; align-items: center; }
  header input { width: 72px; }
  #key { width: 140px; }
  #log { flex: 1; overflow-y: auto; padding: 16px; display: flex; flex-direction: column; gap: 10px; }
  .msg { max-width: 860px; padding: 10px 14px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; border: 1px solid var(--border); }
  .user { background: var(--me); align-self: flex-end; }
  .assistant { background: var(--bot); align-self: flex-start; }
  .error { border-color: #d33; color: #d33; }
  pre { background: var(--code); color: var(--codefg); padding: 10px; border-radius: 6px; overflow-x: auto; white-space: pre; margin: 6px 0; }
  code { font: 13px/1.45 ui-monospace, monospace; }
  form { display: flex; gap: 8px; padding: 12px 16px; border-top: 1px solid var(--border); }
  textarea { flex: 1; min-height: 48px; max-height: 200px; resize: vertical; font: inherit; padding: 8px; border-radius: 8px; border: 1px solid var(--border); background: var(--bot); color: var(--fg); }
  button { padding: 0 16px; border-radius: 8px; border: 1px solid var(--border); cursor: pointer; font: inherit; }
  #status { color: var(--muted); font-size: 12px; padding: 0 16px 6px; min-height: 18px; }
</style>
</head>
<body>
<header>
  <h1>OmniCoder</h1>
  <span id="model" data-testid="model"></span>
  <label>temperature <input id="temperature" data-testid="temperature" type="number" min="0" max="2" step="0.1" value="0.7"></label>
  <label>max tokens <input id="max_tokens" data-testid="max-tokens" type="number" min="1" step="1" value="256"></label>
  <label>API key <input id="key" data-testid="api-key" type="password" placeholder="(none)"></label>
  <button id="clear" data-testid="clear" type="button">New chat</button>
</header>
<div id="log" data-testid="log" aria-live="polite"></div>
<div id="status" data-testid="status"></div>
<form id="form">
  <textarea id="prompt" data-testid="prompt" placeholder="Ask something, Enter to send (Shift+Enter: new line)"></textarea>
  <button id="send" data-testid="send" type="submit">Send</button>
  <button id="stop" data-testid="stop" type="button" disabled>Stop</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const history = [];
let controller = null;
$("key").value = localStorage.getItem("omnicoder-key") || "";
$("key").addEventListener("change", () => localStorage.setItem("omnicoder-key", $("key").value));

function headers() {
  const h = { "Content-Type": "application/json" };
  if ($("key").value) h["Authorization"] = "Bearer " + $("key").value;
  return h;
}

// Text with ``` fenced blocks as <pre><code>; everything else as text nodes.
function render(el, text) {
  el.textContent = "";
  const parts = text.split("```");
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      const nl = part.indexOf("\n");
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      const lang = nl >= 0 ? part.slice(0, nl).trim() : "";
      if (lang) code.dataset.lang = lang;
      code.textContent = nl >= 0 ? part.slice(nl + 1) : part;
      pre.appendChild(code);
      el.appendChild(pre);
    } else if (part) {
      el.appendChild(document.createTextNode(part));
    }
  });
}

function bubble(role, text) {
  const el = document.createElement("div");
  el.className = "msg " + role;
  el.dataset.testid = role === "user" ? "user-message" : "assistant-message";
  render(el, text);
  $("log").appendChild(el);
  $("log").scrollTop = $("log").scrollHeight;
  return el;
}

function busy(on) {
  $("send").disabled = on;
  $("stop").disabled = !on;
}

// Calls onChunk with each parsed "data:" event of an SSE response.
async function readEvents(res, onChunk) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += decoder.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, at);
      buf = buf.slice(at + 2);
      for (const line of event.split("\n")) {
        if (line.startsWith("data: ") && line.slice(6) !== "[DONE]") onChunk(JSON.parse(line.slice(6)));
      }
    }
  }
}

async function request(signal) {
  const res = await fetch("/v1/chat/completions", {
    method: "POST", headers: headers(), signal,
    body: JSON.stringify({ messages: history, stream: true, temperature: Number($("temperature").value),
                           max_tokens: Number($("max_tokens").value), stream_options: { include_usage: true } }),
  });
  if (!res.ok) {
    let msg = res.status + " " + res.statusText;
    try { msg = (await res.json()).error.message; } catch (e) {}
    throw new Error(msg);
  }
  return res;
}

async function send(prompt) {
  history.push({ role: "user", content: prompt });
  bubble("user", prompt);
  const el = bubble("assistant", "");
  let reply = "", tokens = 0;
  controller = new AbortController();
  busy(true);
  $("status").textContent = "generating...";
  const t0 = performance.now();
  try {
    await readEvents(await request(controller.signal), (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.content) {
        reply += delta.content;
        render(el, reply);
        $("log").scrollTop = $("log").scrollHeight;
      }
    });
    const secs = (performance.now() - t0) / 1000;
    $("status").textContent = tokens + " tokens, " + (tokens / secs).toFixed(1) + " tok/s";
  } catch (e) {
    if (e.name === "AbortError") {
      $("status").textContent = "stopped";
    } else {
      el.classList.add("error");
      render(el, reply + (reply ? "\n" : "") + "error: " + e.message);
      $("status").textContent = "";
    }
  } finally {
    if (reply) history.push({ role: "assistant", content: reply });
    else history.pop();
    el.dataset.done = "1";
    controller = null;
    busy(false);
  }
}

$("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt || controller) return;
  $("prompt").value = "";
  send(prompt);
});
$("prompt").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("form").requestSubmit(); }
});
$("stop").addEventListener("click", () => { if (controller) controller.abort(); });
$("clear").addEventListener("click", () => { history.length = 0; $("log").textContent = ""; $("status").textContent = ""; });
fetch("/v1/models", { headers: headers() }).then((r) => r.json()).then((j) => { $("model").textContent = j.data[0].id; }).catch(() => {});
</script>
</body>
</html>
)HTML";

}  // namespace omnicoder::server
