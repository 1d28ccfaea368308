// Lint: the TypeScript-aware rules that catch what tsc does not (floating or misused promises,
// unused code), on every source, test, benchmark and script. Formatting is Prettier's job.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/dist/**",
      "**/node_modules/**",
      ".tools/**",
      ".venv*/**",
      "third_party/**",
      ".gpu-carry/**",
      "native/build/**",
      "demo-out/**",
      "coverage/**",
      "logs/**",
      "**/*.d.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.test.json", "./packages/*/tsconfig.json", "./native/tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "no-unused-vars": "off",
    },
  },
  {
    // USAGE (exit 2) means "the command line was misused", which only a CLI can know. Libraries
    // throw the specific code (INVALID_OPTION, INVALID_ARGUMENT, STORE_ROOT_UNSET, ...) and a CLI
    // may map it to USAGE where the failing value came from its own flags.
    files: ["packages/*/src/**/*.ts"],
    ignores: ["packages/cli/src/**", "packages/core/src/errors.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "Literal[value='USAGE']",
          message: "libraries do not throw USAGE: use the specific code; the CLI decides what is command-line misuse",
        },
      ],
    },
  },
  prettier,
);
