/** One axis of an optimization profile: the smallest, the tuned-for and the largest size. */
export interface ProfileRange {
  readonly min: number;
  readonly opt: number;
  readonly max: number;
}

/**
 * The optimization profile of a transformer encoder: its batch and sequence ranges. One type from
 * the build request (normalizeBuildRequest) through the builder, the addon's build options and the
 * engine metadata (max_batch_size, seq_len, min/opt/max shapes) to the runtime's limits, so that
 * --max-batch has one name, `profile.batch.max`, on the whole way (docs/development.md).
 */
export interface Profile {
  readonly batch: ProfileRange;
  readonly sequence: ProfileRange;
}

/** Every engine of ours takes a single row: the profile's smallest batch, fixed here once. */
export const MIN_BATCH = 1;

/** The profile's [batch, sequence] shape at min, opt or max. */
export function profileShape(profile: Profile, at: keyof ProfileRange): [number, number] {
  return [profile.batch[at], profile.sequence[at]];
}
