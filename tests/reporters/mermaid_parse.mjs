// Parse Mermaid diagrams with the real Mermaid parser: a JSON list of sources on stdin,
// a JSON list of {"ok": true} / {"ok": false, "error": "..."} on stdout.
// MERMAID_DIR names a folder whose node_modules holds mermaid and jsdom (Mermaid needs a
// DOM for DOMPurify even to parse). Used by tests/reporters/test_markdown.py.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const require = createRequire(join(process.env.MERMAID_DIR, "package.json"));
const { JSDOM } = require("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const mermaid = (await import(pathToFileURL(require.resolve("mermaid")).href)).default;
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const source of JSON.parse(input)) {
  try {
    await mermaid.parse(source);
    results.push({ ok: true });
  } catch (error) {
    results.push({ ok: false, error: String(error?.message ?? error) });
  }
}
process.stdout.write(JSON.stringify(results));
