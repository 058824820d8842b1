// The official OpenAI Node client against `omnicoder serve`: chat and completions, whole
// and streamed, model list, and the client's own error classes for 400 and 401.
//   node openai_client_test.mjs OMNICODER_BIN MODEL
import OpenAI from "openai";
import { startServer, check } from "./serve.mjs";

const [bin, model] = process.argv.slice(2);
const server = await startServer(bin, ["-m", model, "-t", "1", "--parallel", "2", "--api-key", "sk-test-key"]);
let failed = false;
try {
  const client = new OpenAI({ baseURL: server.url + "/v1", apiKey: "sk-test-key", maxRetries: 0 });
  const models = await client.models.list();
  check(models.data.length === 1 && typeof models.data[0].id === "string", "models.list: " + models.data[0].id);

  const chat = await client.chat.completions.create({
    model: models.data[0].id, messages: [{ role: "user", content: "Write a Python function that adds two numbers." }],
    max_tokens: 24, temperature: 0, seed: 3,
  });
  check(chat.object === "chat.completion" && chat.choices[0].message.role === "assistant", "chat: object and role");
  check(chat.choices[0].message.content.length > 0 && chat.usage.completion_tokens > 0, "chat: content and usage");
  check(["stop", "length"].includes(chat.choices[0].finish_reason), "chat: finish_reason " + chat.choices[0].finish_reason);

  const stream = await client.chat.completions.create({
    model: models.data[0].id, messages: [{ role: "user", content: "Write a Python function that adds two numbers." }],
    max_tokens: 24, temperature: 0, seed: 3, stream: true, stream_options: { include_usage: true },
  });
  let text = "", chunks = 0, finish = null, usage = null;
  for await (const chunk of stream) {
    ++chunks;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  check(chunks > 5, "chat stream: " + chunks + " chunks");
  check(text === chat.choices[0].message.content, "chat stream: same text as the whole reply (greedy)");
  check(finish === chat.choices[0].finish_reason && usage && usage.completion_tokens === chat.usage.completion_tokens,
        "chat stream: finish_reason and usage");

  const comp = await client.completions.create({ model: models.data[0].id, prompt: "import os\n", max_tokens: 16, temperature: 0 });
  check(comp.object === "text_completion" && comp.choices[0].text.length > 0, "completions: text");
  const cstream = await client.completions.create({ model: models.data[0].id, prompt: "import os\n", max_tokens: 16, temperature: 0, stream: true });
  let ctext = "";
  for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? "";
  check(ctext === comp.choices[0].text, "completions stream: same text");

  try {
    await client.chat.completions.create({ model: "x", messages: [{ role: "wizard", content: "hi" }] });
    check(false, "a bad role is refused");
  } catch (e) {
    check(e instanceof OpenAI.BadRequestError && e.status === 400 && /role/.test(e.message), "400 as BadRequestError: " + e.message);
  }
  try {
    await new OpenAI({ baseURL: server.url + "/v1", apiKey: "wrong", maxRetries: 0 }).models.list();
    check(false, "a wrong key is refused");
  } catch (e) {
    check(e instanceof OpenAI.AuthenticationError && e.status === 401, "401 as AuthenticationError");
  }
} catch (e) {
  console.error(e);
  failed = true;
} finally {
  const code = await server.stop();
  if (code !== 0) { console.error("server exit code " + code + "\n" + server.log()); failed = true; }
}
process.exit(failed ? 1 : 0);
