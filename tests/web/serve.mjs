// Starts `omnicoder serve --port 0` for a test and resolves once /health answers 200.
import { spawn } from "node:child_process";

export async function startServer(bin, args) {
  const proc = spawn(bin, ["serve", "--port", "0", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start:\n" + log)), 60000);
    proc.stderr.on("data", (d) => {
      log += d;
      const m = log.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
  });
  for (let i = 0; i < 600; ++i) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.status === 200) break;
    } catch (e) {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, pid: proc.pid, url: `http://127.0.0.1:${port}`, log: () => log,
    async stop() {
      const exited = new Promise((r) => proc.on("exit", (code) => r(code)));
      proc.kill("SIGTERM");
      return exited;
    },
  };
}

export function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
  console.log("ok - " + what);
}
