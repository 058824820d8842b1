// Load and faults against `omnicoder serve` (loopback only), bounded in time:
//  - N concurrent streaming requests against S slots: each gets 200 (a stream that ends in
//    [DONE]) or 503 with Retry-After, none hangs; p50/p99 latency, RSS before/after;
//  - D clients that hang up mid-stream: afterwards 0 busy slots, and RSS does not grow;
//  - optionally aggregate tok/s with 1, 4, 8 concurrent streams.
//   node load_test.mjs BIN MODEL [--requests N] [--drops D] [--slots S] [--throughput 1,4,8]
//                                [--tokens T] [--threads T] [--json]
import { readFileSync } from "node:fs";
import { startServer, check } from "./serve.mjs";

const argv = process.argv.slice(2);
const [bin, model] = argv;
const opt = (name, dflt) => {
  const i = argv.indexOf("--" + name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const requests = Number(opt("requests", 300)), drops = Number(opt("drops", 100)), slots = Number(opt("slots", 8));
const tokens = Number(opt("tokens", 16)), threads = opt("threads", "2");
const throughput = opt("throughput", "");
const server = await startServer(bin, ["-m", model, "-t", threads, "--parallel", String(slots)]);
const rss = () => {
  try {
    return Number(readFileSync(`/proc/${server.pid}/statm`, "utf8").split(" ")[1]) * 4096;
  } catch (e) { return 0; }
};
const metric = async (name) => {
  const text = await (await fetch(server.url + "/metrics")).text();
  const m = text.match(new RegExp("^" + name + " (\\S+)$", "m"));
  return m ? Number(m[1]) : NaN;
};
const pct = (xs, p) => xs.length ? xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN;

// One streaming request; resolves {status, ms, done, tokens}.
async function stream(body, abortAfterFirstChunk = false) {
  const t0 = performance.now();
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 120000);
  try {
    const res = await fetch(server.url + "/v1/completions", {
      method: "POST", headers: { "Content-Type": "application/json" }, signal: ac.signal,
      body: JSON.stringify({ stream: true, stream_options: { include_usage: true }, ...body }),
    });
    if (res.status !== 200) {
      await res.text();
      return { status: res.status, retryAfter: res.headers.get("retry-after"), ms: performance.now() - t0 };
    }
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let text = "", n = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (abortAfterFirstChunk && text.includes("data: ")) { ac.abort(); return { status: 200, dropped: true }; }
    }
    const m = text.match(/"completion_tokens":(\d+)/);
    if (m) n = Number(m[1]);
    return { status: 200, ms: performance.now() - t0, done: text.trimEnd().endsWith("data: [DONE]"), tokens: n };
  } catch (e) {
    return { status: abortAfterFirstChunk ? 200 : -1, dropped: abortAfterFirstChunk, error: String(e), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

const report = {};
let failed = false;
try {
  await stream({ prompt: "import os\n", max_tokens: 4 });  // warm up
  const rss0 = rss();
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: requests }, (_, i) =>
    stream({ prompt: "def f" + i + "(x):\n", max_tokens: tokens, temperature: 0.7, seed: i })));
  const wall = (performance.now() - t0) / 1000;
  const ok = results.filter((r) => r.status === 200), busy = results.filter((r) => r.status === 503);
  const other = results.filter((r) => r.status !== 200 && r.status !== 503);
  report.concurrent = { requests, slots, ok: ok.length, busy_503: busy.length, other: other.length, wall_s: wall,
    p50_ms_ok: pct(ok.map((r) => r.ms), 0.5), p99_ms_ok: pct(ok.map((r) => r.ms), 0.99),
    p50_ms_503: pct(busy.map((r) => r.ms), 0.5), p99_ms_503: pct(busy.map((r) => r.ms), 0.99),
    rss_before_mib: rss0 / 1048576, rss_after_mib: rss() / 1048576 };
  check(other.length === 0, `${requests} concurrent streams: every answer is 200 or 503 (${ok.length} / ${busy.length})` +
        (other.length ? " — others: " + JSON.stringify(other.slice(0, 3)) : ""));
  check(ok.every((r) => r.done && r.tokens >= 1 && r.tokens <= tokens), "every 200 stream ends in [DONE] with its usage");
  check(busy.every((r) => r.retryAfter), "every 503 has Retry-After");
  check(ok.length >= slots, "at least one request per slot was served");

  const rss1 = rss();
  // In waves the server admits (slots + queue), so every client really starts a stream
  // and hangs up on it.
  const dropped = [];
  for (let wave = 0; dropped.filter((r) => r.dropped).length < drops && wave < 4 * drops; ++wave) {
    const n = Math.min(64, drops - dropped.filter((r) => r.dropped).length);
    dropped.push(...await Promise.all(Array.from({ length: n }, (_, i) =>
      stream({ prompt: "class C" + wave + "_" + i + ":\n", max_tokens: 400 }, true))));
  }
  let idle = false;
  for (let i = 0; i < 100 && !idle; ++i) {
    idle = (await metric("omnicoder_busy_slots")) === 0 && (await metric("omnicoder_queue_length")) === 0;
    if (!idle) await new Promise((r) => setTimeout(r, 100));
  }
  report.drops = { clients: drops, dropped: dropped.filter((r) => r.dropped).length, idle_after: idle,
                   cancelled_total: await metric("omnicoder_requests_cancelled_total"),
                   rss_before_mib: rss1 / 1048576, rss_after_mib: rss() / 1048576 };
  check(report.drops.dropped >= drops, `${report.drops.dropped} clients hung up mid-stream`);
  check(idle, "after them: 0 busy slots, empty queue within 10 s");
  check(rss() < rss1 + 64 * 1048576, "RSS did not grow by 64 MiB after the drops");
  const after = await stream({ prompt: "x = ", max_tokens: 3 });
  check(after.status === 200 && after.done, "the server still serves");

  if (throughput) {
    report.throughput = [];
    for (const k of throughput.split(",").map(Number)) {
      const per = Math.max(2, Math.ceil(16 / k));  // requests per stream
      const t1 = performance.now();
      const rs = await Promise.all(Array.from({ length: k }, async (_, j) => {
        let n = 0;
        for (let r = 0; r < per; ++r) n += (await stream({ prompt: "def g" + j + "_" + r + "():\n", max_tokens: 128, temperature: 0.7, seed: r, ignore: 0 })).tokens || 0;
        return n;
      }));
      const s = (performance.now() - t1) / 1000;
      const total = rs.reduce((a, b) => a + b, 0);
      report.throughput.push({ streams: k, tokens: total, seconds: s, tok_per_s: total / s });
      console.log(`throughput: ${k} stream(s): ${total} tokens in ${s.toFixed(2)} s = ${(total / s).toFixed(1)} tok/s`);
    }
  }
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  const code = await server.stop();
  if (code !== 0) { console.error("server exit code " + code + "\n" + server.log()); failed = true; }
}
console.log(JSON.stringify(report, null, 1));
process.exit(failed ? 1 : 0);
