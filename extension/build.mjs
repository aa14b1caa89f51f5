#!/usr/bin/env node
/** Builds the dev extension (make extension -> build/extension-dev/): the production files with
 * only the server URL, the host permission and a fixed manifest key changed (dev-build.json). */

import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const PRODUCTION_URL = "https://numfree.com";
const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, "..", "build", "extension-dev");
const dev = JSON.parse(readFileSync(join(here, "dev-build.json"), "utf8"));
const SKIP = new Set(["tests", "build.mjs", "dev-build.json"]);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(here, out, {
  recursive: true,
  filter: (source) => !SKIP.has(relative(here, source).split(/[\\/]/)[0]),
});

function replaceExactlyOnce(text, from, to, what) {
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`${what}: expected "${from}" once, found ${count} times`);
  return text.replace(from, to);
}

const manifest = JSON.parse(readFileSync(join(here, "manifest.json"), "utf8"));
manifest.host_permissions = dev.host_permissions;
manifest.key = dev.key;
const devWs = dev.server_url.replace(/^http/, "ws");
let csp = manifest.content_security_policy.extension_pages;
csp = replaceExactlyOnce(csp, `connect-src ${PRODUCTION_URL} wss://numfree.com`, `connect-src ${dev.server_url} ${devWs}`, "CSP");
manifest.content_security_policy.extension_pages = csp;
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

const config = readFileSync(join(here, "config.js"), "utf8");
writeFileSync(
  join(out, "config.js"),
  replaceExactlyOnce(config, `"${PRODUCTION_URL}"`, JSON.stringify(dev.server_url), "config.js"),
);
console.log(`dev build (server ${dev.server_url}, id ${dev.extension_id}) in ${relative(process.cwd(), out) || out}`);
