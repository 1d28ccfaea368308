import semver from "semver";

/**
 * The version as semver, or undefined when it holds no number. PEP 440 local labels ("+cpu",
 * "+cu128") name a build of the same release, so they are dropped; pre-releases ("2.13.0rc1",
 * "2.13.0.dev20260101") are kept as semver pre-releases so that a range of releases rejects them,
 * which semver.coerce alone would not do. A fourth component ("10.16.0.72") is dropped.
 */
export function comparableVersion(raw: string): string | undefined {
  const withoutLocal = raw.trim().split("+")[0]!;
  const release = semver.coerce(withoutLocal);
  if (!release) return undefined;
  const afterRelease = /^v?\d+(?:\.\d+)*(.*)$/i.exec(withoutLocal)?.[1] ?? "";
  const preRelease = /^[.-]?((?:a|b|c|rc|alpha|beta|pre|preview|dev)[.-]?\d*)/i.exec(afterRelease)?.[1];
  if (preRelease === undefined) return release.version;
  return `${release.version}-${preRelease.replace(/[^0-9A-Za-z]/g, "").toLowerCase()}`;
}

/** What the local label of a PEP 440 version says about the build, e.g. "CUDA 12.8 build". */
export function buildFlavor(raw: string): string | undefined {
  const local = raw.trim().split("+")[1];
  if (local === undefined || local === "") return undefined;
  if (local === "cpu") return "CPU build";
  const cuda = /^cu(\d+)(\d)$/.exec(local);
  if (cuda) return `CUDA ${cuda[1]}.${cuda[2]} build`;
  const rocm = /^rocm([\d.]+)$/.exec(local);
  if (rocm) return `ROCm ${rocm[1]} build`;
  return `local build "+${local}"`;
}

export function satisfiesRange(version: string, range: string): boolean {
  return semver.satisfies(version, range);
}
