#!/usr/bin/env node
/** Builds NumFree Caller for a server other than numfree.com (make extension [SERVER=...] [KEY=...]):
 * the production files with only the server URL, the host permission, the CSP's connect-src and a
 * manifest key changed. Without KEY the build carries the dev key from dev-build.json, so its id is
 * always that key's id; with KEY (an RSA key in PEM) it gets that key's own id.
 *
 *   node extension/build.mjs <out dir> [--server URL] [--key key.pem]
 */

import { createHash, createPublicKey } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const PRODUCTION_URL = "https://numfree.com";
const here = dirname(fileURLToPath(import.meta.url));
const dev = JSON.parse(readFileSync(join(here, "dev-build.json"), "utf8"));
const SKIP = new Set(["tests", "build.mjs", "dev-build.json"]);

function fail(message) {
  console.error(`make extension: ${message}`);
  process.exit(2);
}

/** The server's origin; plain http only for this machine (a token must not cross a network in clear). */
function serverOrigin(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    fail(`SERVER must be a URL like https://calls.example.org (got ${JSON.stringify(raw)})`);
  }
  if (!["https:", "http:"].includes(url.protocol)) fail(`SERVER must start with https:// (got ${raw})`);
  if (url.username || url.password || url.search || url.hash || !["", "/"].includes(url.pathname)) {
    fail(`SERVER is the server's origin only, with no path, query or user (got ${raw})`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol === "http:" && !loopback) fail(`SERVER must use https:// unless it is this machine (got ${raw})`);
  return url.origin;
}

/** Chrome's extension id for a public key: SHA-256 of the DER SubjectPublicKeyInfo, 32 hex digits as a-p. */
function extensionId(publicKeyDer) {
  const hex = createHash("sha256").update(publicKeyDer).digest("hex").slice(0, 32);
  return [...hex].map((digit) => String.fromCharCode(97 + parseInt(digit, 16))).join("");
}

function manifestKey(keyPath) {
  if (!keyPath) return dev.key;
  let key;
  try {
    key = createPublicKey(readFileSync(keyPath));
  } catch (problem) {
    fail(`KEY must be an RSA key in PEM (openssl genrsa -out key.pem 2048): ${problem.message}`);
  }
  return key.export({ type: "spki", format: "der" }).toString("base64");
}

function replaceExactlyOnce(text, from, to, what) {
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`${what}: expected "${from}" once, found ${count} times`);
  return text.replace(from, to);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { server: { type: "string" }, key: { type: "string" } },
});
const out = positionals[0] || join(here, "..", "build", "extension-dev");
const server = serverOrigin(values.server || dev.server_url);
const key = manifestKey(values.key);
const id = extensionId(Buffer.from(key, "base64"));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(here, out, {
  recursive: true,
  filter: (source) => !SKIP.has(relative(here, source).split(/[\\/]/)[0]),
});

const manifest = JSON.parse(readFileSync(join(here, "manifest.json"), "utf8"));
manifest.host_permissions = [`${server}/*`];
manifest.key = key;
const socketOrigin = server.replace(/^http/, "ws");
let csp = manifest.content_security_policy.extension_pages;
csp = replaceExactlyOnce(csp, `connect-src ${PRODUCTION_URL} wss://numfree.com`, `connect-src ${server} ${socketOrigin}`, "CSP");
manifest.content_security_policy.extension_pages = csp;
writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

const config = readFileSync(join(here, "config.js"), "utf8");
writeFileSync(join(out, "config.js"), replaceExactlyOnce(config, `"${PRODUCTION_URL}"`, JSON.stringify(server), "config.js"));
writeFileSync(join(out, "build.json"), JSON.stringify({ server, extension_id: id }, null, 2) + "\n");
console.log(`NumFree Caller for ${server} in ${relative(process.cwd(), out) || out}`);
console.log(`extension id ${id}: that server needs NUMFREE_EXTENSION_IDS=${id} (comma-separated with any other ids)`);
