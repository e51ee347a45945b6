// Plain-text commands [cp-text-*]: `exec uptime`, `wrfile notes.txt "hello world" append=true`.
// Rules (topics.md repeats them with ids; JSON-or-text is [cp-text-1] in decode.ts):
//  1. [cp-text-2] Words are separated by white space. "double" and 'single' quotes group; inside double quotes
//     a backslash escapes the next character; outside quotes a backslash escapes the next character.
//  2. [cp-text-3] The first word that is not an option is the command name.
//  3. [cp-text-4] [cp-text-5] An unquoted word `key=value` whose key is an identifier is an option; envelope keys (id, ttlMs,
//     timeoutMs, cwd, target, from, sentAt, v) go to the envelope, the rest to opts. A bare `--`
//     ends option parsing: every later word is positional.
//  4. [cp-text-6] An unquoted word that is a decimal number becomes a number; `true`/`false`/`null` likewise in
//     option values. Quoted words are always strings.
import { ENVELOPE_TEXT_KEYS, type CommandInput } from './command.js';

interface Word {
  text: string;
  quoted: boolean;
  /** Index of the first '=' outside quotes, or -1. */
  eqAt: number;
}

function tokenize(input: string): Word[] {
  const words: Word[] = [];
  let cur: Word | undefined;
  let i = 0;
  const start = () => (cur ??= { text: '', quoted: false, eqAt: -1 });
  while (i < input.length) {
    const ch = input[i];
    if (/\s/.test(ch)) {
      if (cur) words.push(cur);
      cur = undefined;
      i++;
    } else if (ch === '"' || ch === "'") {
      const w = start();
      w.quoted = true;
      const quote = ch;
      i++;
      while (i < input.length && input[i] !== quote) {
        if (quote === '"' && input[i] === '\\' && i + 1 < input.length) i++;
        w.text += input[i++];
      }
      if (i >= input.length) throw new SyntaxError(`unterminated ${quote} quote`);
      i++;
    } else if (ch === '\\' && i + 1 < input.length) {
      start().text += input[i + 1];
      i += 2;
    } else {
      const w = start();
      if (ch === '=' && w.eqAt < 0 && !w.quoted) w.eqAt = w.text.length;
      w.text += ch;
      i++;
    }
  }
  if (cur) words.push(cur);
  return words;
}

const NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?$/;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * What an unquoted option value means [cp-text-6]: a decimal number when it survives the round trip,
 * `true`/`false`/`null`, else the text itself. The CLI's `-o key=value` uses it too, so the same
 * word means the same thing in `conplyent run … -o x=1.10` and in the text command `x=1.10`.
 * @example
 * parseOptionValue('42')   // 42
 * parseOptionValue('1.10') // '1.10' (as a number it would come back as 1.1)
 * parseOptionValue('true') // true
 */
export function parseOptionValue(text: string): string | number | boolean | null {
  return scalar(text, false, true);
}

function scalar(text: string, quoted: boolean, literals: boolean): string | number | boolean | null {
  if (quoted) return text;
  // Only words that survive the round trip become numbers: `1.10` and 20-digit ids stay strings.
  if (NUMBER_RE.test(text) && String(Number(text)) === text) return Number(text);
  if (literals) {
    if (text === 'true') return true;
    if (text === 'false') return false;
    if (text === 'null') return null;
  }
  return text;
}

/** Parses a plain-text command into the JSON envelope shape; throws SyntaxError with a reason. */
export function parseTextCommand(input: string): CommandInput {
  const words = tokenize(input.trim());
  if (words.length === 0) throw new SyntaxError('empty command');
  // No prototype: `__proto__=x` must become a key the decoder can see and refuse [cp-env-11], not
  // silently set the prototype of the options object.
  const envelope: Record<string, unknown> = Object.create(null);
  const opts: Record<string, unknown> = Object.create(null);
  const args: unknown[] = [];
  let cmd: string | undefined;
  let optionsOpen = true;
  for (const w of words) {
    if (optionsOpen && !w.quoted && w.text === '--') {
      optionsOpen = false;
      continue;
    }
    const key = w.eqAt > 0 ? w.text.slice(0, w.eqAt) : '';
    if (optionsOpen && w.eqAt > 0 && KEY_RE.test(key)) {
      const value = scalar(w.text.slice(w.eqAt + 1), w.quoted, true);
      if ((ENVELOPE_TEXT_KEYS as readonly string[]).includes(key)) envelope[key] = value;
      else opts[key] = value;
      continue;
    }
    if (cmd === undefined) cmd = w.text;
    else args.push(scalar(w.text, w.quoted, false));
  }
  if (cmd === undefined) throw new SyntaxError('no command name');
  return { ...envelope, cmd, args, opts } as CommandInput;
}
