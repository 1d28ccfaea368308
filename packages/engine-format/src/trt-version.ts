/** A TensorRT version as major.minor[.patch[.build]]; the build number is optional in metadata. */
export interface TrtVersion {
  major: number;
  minor: number;
  patch: number | undefined;
  build: number | undefined;
}

export const TRT_VERSION_PATTERN = /^\d{1,3}\.\d{1,3}(?:\.\d{1,3}){0,2}$/;

export function parseTrtVersion(text: string): TrtVersion | undefined {
  if (!TRT_VERSION_PATTERN.test(text)) return undefined;
  const [major, minor, patch, build] = text.split(".").map(Number);
  return { major: major!, minor: minor!, patch, build };
}

export function formatTrtVersion(v: TrtVersion): string {
  return [v.major, v.minor, v.patch, v.build].filter((n) => n !== undefined).join(".");
}

/**
 * True when both versions agree on every component that both of them state. "10.13.3" agrees
 * with "10.13.3.9"; "10.13" with "10.13.0.35" too. Used where one side may omit the build number.
 */
export function trtVersionsAgree(a: TrtVersion, b: TrtVersion): boolean {
  const pairs: [number | undefined, number | undefined][] = [
    [a.major, b.major],
    [a.minor, b.minor],
    [a.patch, b.patch],
    [a.build, b.build],
  ];
  return pairs.every(([x, y]) => x === undefined || y === undefined || x === y);
}

/** Orders versions by their stated components; a missing component counts as 0. */
export function compareTrtVersions(a: TrtVersion, b: TrtVersion): number {
  const key = (v: TrtVersion) => [v.major, v.minor, v.patch ?? 0, v.build ?? 0];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    const d = ka[i]! - kb[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
