// `conplyent run … -o key=value` and the text command `key=value` read a value by one rule
// [cp-text-6]: the same word becomes the same JSON value either way.
import { describe, expect, it } from 'vitest';
import { parsePairs } from '../../cli/controller/common.js';
import { parseOptionValue, parseTextCommand } from '../../protocol/index.js';

const TABLE: [string, unknown][] = [
  ['42', 42],
  ['-7', -7],
  ['0', 0],
  ['3.5', 3.5],
  ['1.10', '1.10'],
  ['007', '007'],
  ['1e3', '1e3'],
  ['+1', '+1'],
  ['0x10', '0x10'],
  ['-0', '-0'],
  ['12345678901234567890', '12345678901234567890'],
  ['true', true],
  ['false', false],
  ['null', null],
  ['True', 'True'],
  ['', ''],
  ['web-1', 'web-1'],
  ['a=b', 'a=b'],
];

describe('option values: one rule for the CLI and text commands [cp-text-6]', () => {
  it.each(TABLE)('%j reads as %j in the CLI, in a text command and in parseOptionValue', (word, want) => {
    const cli = parsePairs([`x=${word}`], 'option').x;
    const text = parseTextCommand(`cmd x=${word}`).opts?.x;
    expect(parseOptionValue(word)).toEqual(want);
    expect(cli).toEqual(want);
    expect(text).toEqual(want);
  });

  it('a value that reads as a number stays exact through the CLI: -o x=1.10 is the string "1.10", not 1.1', () => {
    expect(parsePairs(['x=1.10'], 'option')).toEqual({ x: '1.10' });
  });
});
