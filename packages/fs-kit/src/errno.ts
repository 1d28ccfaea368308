/** The errno code of a Node file-system error (ENOENT, EACCES, ...), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = errnoCode(err);
  return code !== undefined && codes.includes(code);
}
