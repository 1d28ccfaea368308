import { readFile } from "node:fs/promises";
import { z } from "zod";

/** How many token ids and token types the model's embedding tables hold, from its config.json. */
export interface VocabSizes {
  vocabSize: number | undefined;
  typeVocabSize: number | undefined;
}

const VocabConfigSchema = z.looseObject({
  vocab_size: z.number().int().positive().optional(),
  type_vocab_size: z.number().int().positive().optional(),
});

/**
 * The embedding sizes a client's token ids must stay under: an id past the table is an out-of-range
 * gather in the backend (an internal error), so the server checks ids against these first. A config
 * without them (or no config) leaves the bound unknown; readClassifierHead reports unreadable configs.
 */
export async function readVocabSizes(configPath: string | undefined): Promise<VocabSizes> {
  if (configPath === undefined) return { vocabSize: undefined, typeVocabSize: undefined };
  const parsed = VocabConfigSchema.safeParse(JSON.parse(await readFile(configPath, "utf8")));
  if (!parsed.success) return { vocabSize: undefined, typeVocabSize: undefined };
  return { vocabSize: parsed.data.vocab_size, typeVocabSize: parsed.data.type_vocab_size };
}
