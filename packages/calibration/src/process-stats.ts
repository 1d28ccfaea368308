/**
 * The process's peak resident set size so far, in bytes (getrusage's ru_maxrss, which Node gives
 * in KiB). It is the peak of the whole process: a caller measuring one stage alone runs it in a
 * fresh process.
 */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}
