// The web chat page in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): send a prompt and watch tokens stream in, stop a reply mid-way (the
// server frees the slot), send again; code fences render as code blocks.
//   node chat_page_test.mjs OMNICODER_BIN MODEL SCREENSHOT.png
import { chromium } from "playwright-core";
import { startServer, check } from "./serve.mjs";

const [bin, model, shot] = process.argv.slice(2);
// The reference kernels slow each token down enough to stop a reply half-way.
const server = await startServer(bin, ["-m", model, "-t", "1", "--isa", "ref", "--parallel", "2"]);
let browser, failed = false;
const metric = async (name) => {
  const text = await (await fetch(server.url + "/metrics")).text();
  const m = text.match(new RegExp("^" + name + " (\\S+)$", "m"));
  return m ? Number(m[1]) : NaN;
};
try {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(server.url + "/");
  await page.waitForFunction(() => document.querySelector("[data-testid=model]").textContent.length > 0);
  check((await page.textContent("[data-testid=model]")) === "omnicoder-nano", "the page names the model");

  // Record every length the reply goes through: streaming shows partial replies, a page
  // that waits for the whole reply only the empty bubble and the end. How many partial
  // lengths depends on scheduling: when the browser gets no core for a while (ctest runs
  // other tests beside this one on 2 cores), the tokens sent meanwhile arrive in one read
  // and show as one length, so the check asks for one partial reply, not many.
  await page.evaluate(() => {
    window.lengths = new Set();
    new MutationObserver(() => {
      const all = document.querySelectorAll("[data-testid=assistant-message]");
      if (all.length) window.lengths.add(all[all.length - 1].textContent.length);
    }).observe(document.querySelector("[data-testid=log]"), { childList: true, subtree: true, characterData: true });
  });
  await page.fill("[data-testid=max-tokens]", "60");
  await page.fill("[data-testid=temperature]", "0");
  await page.fill("[data-testid=prompt]", "Write a Python function that adds two numbers.");
  await page.click("[data-testid=send]");
  await page.waitForSelector("[data-testid=assistant-message][data-done='1']", { timeout: 60000 });
  const first = await page.textContent("[data-testid=assistant-message]");
  const seen = await page.evaluate(() => [...window.lengths]);
  const partial = seen.filter((n) => n > 0 && n < first.length).length;
  check(first.length > 0 && partial >= 1,
        `tokens streamed in (${partial} partial lengths before the ${first.length} characters)`);
  check(/tok\/s/.test(await page.textContent("[data-testid=status]")), "the status line reports tok/s");

  // Stop: a long reply, stopped as soon as text appears.
  await page.fill("[data-testid=max-tokens]", "400");
  await page.fill("[data-testid=prompt]", "Now write a long module with many functions.");
  await page.click("[data-testid=send]");
  await page.waitForFunction(() => {
    const all = document.querySelectorAll("[data-testid=assistant-message]");
    return all.length === 2 && all[1].textContent.length > 0;
  });
  await page.click("[data-testid=stop]");
  await page.waitForSelector("[data-testid=assistant-message]:nth-of-type(4)[data-done='1']", { timeout: 10000 }).catch(() => {});
  await page.waitForFunction(() => document.querySelector("[data-testid=status]").textContent === "stopped");
  check(await page.isEnabled("[data-testid=send]"), "stop: the page is ready again");
  let busy = NaN;
  for (let i = 0; i < 50; ++i) {
    busy = await metric("omnicoder_busy_slots");
    if (busy === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  check(busy === 0, "stop: the server freed the slot");
  check((await metric("omnicoder_requests_cancelled_total")) >= 1, "stop: the server counted a cancelled request");

  // Send again after the stop.
  await page.fill("[data-testid=max-tokens]", "20");
  await page.fill("[data-testid=prompt]", "Thanks. One more function, please.");
  await page.click("[data-testid=send]");
  await page.waitForFunction(() => {
    const all = document.querySelectorAll("[data-testid=assistant-message]");
    return all.length === 3 && all[2].dataset.done === "1";
  }, null, { timeout: 60000 });
  const third = await page.$$eval("[data-testid=assistant-message]", (els) => els[2]);
  check((await page.$$("[data-testid=user-message]")).length === 3, "send again: three user turns");
  check((await page.$$(".msg.error")).length === 0, "no error bubbles");

  // Fenced code renders as a code block (the page's renderer, on a known text).
  const codeBlocks = await page.evaluate(() => {
    const el = document.createElement("div");
    render(el, "Here:\n```python\ndef f():\n    return 1\n```\ndone");
    const code = el.querySelector("pre > code");
    return code ? code.dataset.lang + "|" + code.textContent : "";
  });
  check(codeBlocks === "python|def f():\n    return 1\n", "code fences render as <pre><code>");
  check(errors.length === 0, "no script errors on the page" + (errors.length ? ": " + errors.join("; ") : ""));
  await page.screenshot({ path: shot, fullPage: true });
  console.log("screenshot: " + shot);
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  if (browser) await browser.close();
  const code = await server.stop();
  if (code !== 0) { console.error("server exit code " + code + "\n" + server.log()); failed = true; }
}
process.exit(failed ? 1 : 0);
