#!/usr/bin/env node
// Writes the documents derived from code: docs/errors.md (error codes and exit statuses) and the
// JSON Schemas under docs/schemas/. A test (tests/generated-docs.test.ts) fails when the committed
// files differ from what this script writes, so run it after changing a schema or an error code:
//   node scripts/gen-docs.mjs
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedDocs } from "../tests/generated-docs.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
for (const [path, text] of Object.entries(await generatedDocs())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
