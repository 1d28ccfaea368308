// The documents derived from code, as { relative path: content }. Shared by scripts/gen-docs.mjs
// (writes them) and tests/generated-docs.test.ts (checks the committed copies).
import { ERROR_CODES } from "@trtforge/core";
import { engineMetadataJsonSchema } from "@trtforge/engine-format";
import { deviceMapJsonSchema, modelsConfigJsonSchema } from "@trtforge/config";

function errorsMarkdown() {
  const rows = Object.entries(ERROR_CODES)
    .sort(([, a], [, b]) => a - b)
    .map(([code, exit]) => `| \`${code}\` | ${exit} |`);
  return [
    "# Error codes",
    "",
    "Generated from `packages/core/src/errors.ts` by `node scripts/gen-docs.mjs`; do not edit by hand.",
    "",
    "Every command prints `error[CODE]: message` and a `fix:` line on stderr and exits with the status",
    "below. The codes are stable: match on them in scripts, not on messages. `verify-engine` keeps",
    "0 / 1 / 2 (ok / problem found / usage) whatever the cause; its problem codes are listed in",
    "docs/engine-format.md.",
    "",
    "| code | exit status |",
    "|---|---|",
    ...rows,
    "",
  ].join("\n");
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

export async function generatedDocs() {
  return {
    "docs/errors.md": errorsMarkdown(),
    "docs/schemas/engine-metadata.v1.schema.json": json(engineMetadataJsonSchema()),
    "docs/schemas/models.schema.json": json(modelsConfigJsonSchema()),
    "docs/schemas/engine-device-map.schema.json": json(deviceMapJsonSchema()),
  };
}
