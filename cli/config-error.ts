// One error type for every bad setting, so the CLI can print it as one line without a stack trace.
import type { z } from 'zod';

/** A setting is invalid; the message names the source (flag, env, config file) and the field. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `agent.keepaliveSec: expected number, received string` from a zod issue. */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  const msg = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const prefix = path ? `${path}.` : '';
    return `${keys.map((k) => prefix + k).join(', ')}: unknown field`;
  }
  return path ? `${path}: ${msg}` : msg;
}
