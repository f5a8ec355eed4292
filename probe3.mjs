import { Worker, isMainThread, workerData, parentPort } from "node:worker_threads";
if (isMainThread) {
  const cases = JSON.parse(process.argv[2]);
  for (const [name, code, opts] of cases) {
    const t = performance.now();
    const res = await new Promise((resolve) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { code, opts } });
      const timer = setTimeout(() => { w.terminate(); resolve("KILLED after 10s"); }, 10000);
      w.on("message", (m) => { clearTimeout(timer); w.terminate(); resolve(m); });
      w.on("error", (e) => { clearTimeout(timer); resolve("WORKER ERROR " + e.message); });
    });
    console.log(name.padEnd(18), String(res).slice(0, 220), `(${(performance.now()-t).toFixed(0)}ms total)`);
  }
} else {
  const { newQuickJSWASMModuleFromVariant } = await import("quickjs-emscripten-core");
  const variant = (await import("@jitl/quickjs-wasmfile-release-sync")).default;
  const QuickJS = await newQuickJSWASMModuleFromVariant(variant);
  const { code, opts = {} } = workerData;
  const rt = QuickJS.newRuntime();
  rt.setMemoryLimit(opts.mem ?? 16<<20); rt.setMaxStackSize(opts.stack ?? 256<<10);
  let calls = 0; const start = performance.now(); const deadline = start + (opts.timeout ?? 1000);
  rt.setInterruptHandler(() => { calls++; return performance.now() > deadline; });
  const ctx = rt.newContext();
  const r = ctx.evalCode(code, "t.js");
  let out = r.error ? "ERR " + JSON.stringify(ctx.dump(r.error)) : "OK " + JSON.stringify(ctx.dump(r.value));
  parentPort.postMessage(`${out.slice(0,150)} [${(performance.now()-start).toFixed(0)}ms, ${calls} calls]`);
}
