// What a user reads when a call to the server fails: the SDK's errors carry the contract's code.

/** The message for the error's code in `byCode`, else `otherwise` (a network failure has no code). */
export function errorMessage(error: unknown, byCode: Record<string, string>, otherwise: string): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && Object.hasOwn(byCode, code) ? byCode[code]! : otherwise;
}
