// The plain-text command syntax exactly as topics.md documents it ("Plain-text commands"): what a
// person types after `mosquitto_pub -m`. Each test names the rule it proves.
import { describe, expect, it } from 'vitest';
import { decodeCommand, parseTextCommand } from '../../protocol/index.js';

const parse = (s: string) => parseTextCommand(s);
const decode = (s: string | Buffer) => decodeCommand(Buffer.isBuffer(s) ? s : Buffer.from(s));

describe('plain-text commands', () => {
  it('[cp-text-1] a payload whose first non-blank character is { or [ is JSON, anything else is text', () => {
    expect(decode('  {"cmd":"ls","args":["/tmp"]}\n')).toMatchObject({ ok: true, value: { cmd: 'ls', args: ['/tmp'] } });
    expect(decode('[1,2]')).toMatchObject({ ok: false, error: 'MALFORMED', message: 'payload must be a JSON object' });
    expect(decode('{not json')).toMatchObject({ ok: false, error: 'MALFORMED' });
    expect(decode('  ls /tmp  ')).toMatchObject({ ok: true, value: { cmd: 'ls', args: ['/tmp'], opts: {} } });
    // A JSON string is not an object: it is read as text, and its quotes group one word.
    expect(decode('"ping"')).toMatchObject({ ok: true, value: { cmd: 'ping' } });
  });

  it('[cp-text-2] words split on white space; double and single quotes group; adjacent parts join', () => {
    expect(parse('wrfile notes.txt "hello world"')).toEqual({ cmd: 'wrfile', args: ['notes.txt', 'hello world'], opts: {} });
    expect(parse("exec sh -c 'echo a  b'")).toEqual({ cmd: 'exec', args: ['sh', '-c', 'echo a  b'], opts: {} });
    expect(parse('ls \t x\ny')).toEqual({ cmd: 'ls', args: ['x', 'y'], opts: {} });
    expect(parse(`c a" b "c 'it''s' "a"'b'c`)).toEqual({ cmd: 'c', args: ['a b c', 'its', 'abc'], opts: {} });
    expect(parse('c "" x')).toEqual({ cmd: 'c', args: ['', 'x'], opts: {} });
    expect(parse('c "line 1\nline 2"').args).toEqual(['line 1\nline 2']);
  });

  it('[cp-text-2] a backslash escapes the next character outside quotes and inside double quotes, never inside single quotes', () => {
    expect(parse('c a\\ b').args).toEqual(['a b']);
    expect(parse('c "x\\"y" "a\\\\b"').args).toEqual(['x"y', 'a\\b']);
    expect(parse("c 'a\\b'").args).toEqual(['a\\b']);
    // No C escapes: \n is just n.
    expect(parse('c "a\\nb"').args).toEqual(['anb']);
    // A backslash at the very end stays a backslash.
    expect(parse('c end\\').args).toEqual(['end\\']);
  });

  it('[cp-text-2] an unterminated quote is a syntax error, reported as MALFORMED', () => {
    expect(() => parse('exec "unterminated')).toThrow(/unterminated " quote/);
    expect(() => parse("exec 'x")).toThrow(/unterminated ' quote/);
    expect(() => parse('c "abc\\"')).toThrow(/unterminated/);
    expect(decode('id=q1 exec "oops')).toMatchObject({ ok: false, error: 'MALFORMED', code: -1 });
    // The id cannot be read from a payload that does not parse: the error goes to the errors topic.
    expect(decode('id=q1 exec "oops')).not.toHaveProperty('id');
  });

  it('[cp-text-3] the first word that is not an option is the command name; the others are positional, in order', () => {
    expect(parse('exec uptime')).toEqual({ cmd: 'exec', args: ['uptime'], opts: {} });
    expect(parse('id=j1 exec uname -a')).toEqual({ id: 'j1', cmd: 'exec', args: ['uname', '-a'], opts: {} });
    expect(parse('"exec" x').cmd).toBe('exec');
    expect(() => parse('   ')).toThrow(/empty command/);
    expect(() => parse('a=1 id=x')).toThrow(/no command name/);
    expect(decode('')).toMatchObject({ ok: false, error: 'MALFORMED' });
  });

  it('[cp-text-4] key=value with an identifier key is an option; envelope keys go to the envelope, the rest to opts', () => {
    expect(parse('wrfile notes.txt "hello world" append=true')).toEqual({
      cmd: 'wrfile',
      args: ['notes.txt', 'hello world'],
      opts: { append: true },
    });
    expect(parse('id=j7 ttlMs=60000 timeoutMs=5000 cwd=/tmp from=ops sentAt=1700000000000 v=1 target=role=web exec ls')).toEqual({
      id: 'j7',
      ttlMs: 60000,
      timeoutMs: 5000,
      cwd: '/tmp',
      from: 'ops',
      sentAt: 1700000000000,
      v: 1,
      target: 'role=web',
      cmd: 'exec',
      args: ['ls'],
      opts: {},
    });
    // Options may come anywhere before `--`, also before the command name; the last of a key wins.
    expect(parse('all=true ls /tmp all=false')).toEqual({ cmd: 'ls', args: ['/tmp'], opts: { all: false } });
    // The value may be quoted (then it is a string with spaces); an empty value is the empty string.
    expect(parse('c msg="a b" k=')).toEqual({ cmd: 'c', args: [], opts: { msg: 'a b', k: '' } });
  });

  it('[cp-text-4] a word is positional when its = is quoted or escaped, its key is not an identifier, or it starts with =', () => {
    expect(parse('c "a=b" a"=b" \'x\'=1 a\\=b').args).toEqual(['a=b', 'a=b', 'x=1', 'a=b']);
    expect(parse('c max-depth=3 =v 1x=2').args).toEqual(['max-depth=3', '=v', '1x=2']);
    expect(parse('c max-depth=3').opts).toEqual({});
  });

  it('[cp-text-5] a bare unquoted -- ends option parsing: every later word is positional, even key=value and --', () => {
    expect(parse('exec -- env A=1 -- B=2')).toEqual({ cmd: 'exec', args: ['env', 'A=1', '--', 'B=2'], opts: {} });
    expect(parse('-- exec a=b')).toEqual({ cmd: 'exec', args: ['a=b'], opts: {} });
    expect(parse('exec "--" a=b')).toEqual({ cmd: 'exec', args: ['--'], opts: { a: 'b' } });
  });

  it('[cp-text-6] an unquoted decimal number becomes a number, in arguments and option values; quoted words stay strings', () => {
    expect(parse('c 5 "5" -3 2.5 0 n=5 q="5"')).toEqual({ cmd: 'c', args: [5, '5', -3, 2.5, 0, ], opts: { n: 5, q: '5' } });
    // Only plain decimals: leading zeros, exponents, signs other than -, hex stay strings.
    expect(parse('c 007 1e3 +1 0x10 1. .5 5a').args).toEqual(['007', '1e3', '+1', '0x10', '1.', '.5', '5a']);
    // An escape does not quote a word.
    expect(parse('c \\5').args).toEqual([5]);
    expect(parse('exec -- sleep 1').args).toEqual(['sleep', 1]);
  });

  it('[cp-text-6] true, false and null are literals in option values only; positional words stay strings', () => {
    expect(parse('c true false null t=true f=false n=null s=TRUE q="true"')).toEqual({
      cmd: 'c',
      args: ['true', 'false', 'null'],
      opts: { t: true, f: false, n: null, s: 'TRUE', q: 'true' },
    });
  });

  it('[cp-text-6] a word becomes a number only when it prints back the same: 1.10 and 20-digit ids stay strings', () => {
    expect(parse('exec echo 1.10 "1.10" 12345678901234567890 -0 42 -7 2.5').args).toEqual(['echo', '1.10', '1.10', '12345678901234567890', '-0', 42, -7, 2.5]);
  });

  it('[cp-text-4] text and JSON forms of the examples in topics.md decode to the same command', () => {
    const pairs: [string, object][] = [
      ['exec uptime', { cmd: 'exec', args: ['uptime'] }],
      ['id=j1 exec uname -a', { id: 'j1', cmd: 'exec', args: ['uname', '-a'] }],
      ['wrfile notes.txt "hello world" append=true', { cmd: 'wrfile', args: ['notes.txt', 'hello world'], opts: { append: true } }],
      ['target=role=web id=f1 exec uptime', { target: 'role=web', id: 'f1', cmd: 'exec', args: ['uptime'] }],
      ['kill j2 signal=SIGKILL', { cmd: 'kill', args: ['j2'], opts: { signal: 'SIGKILL' } }],
      ['send_input cat-1 hello newline=true', { cmd: 'send_input', args: ['cat-1', 'hello'], opts: { newline: true } }],
      ['ttlMs=30000 sentAt=1700000000000 reboot delaySec=10', { ttlMs: 30000, sentAt: 1700000000000, cmd: 'reboot', opts: { delaySec: 10 } }],
      [`exec sh -c 'echo "$HOME" > /tmp/h'`, { cmd: 'exec', args: ['sh', '-c', 'echo "$HOME" > /tmp/h'] }],
      ['exec -- env A=1 B=2', { cmd: 'exec', args: ['env', 'A=1', 'B=2'] }],
      ['exec echo 42 "42"', { cmd: 'exec', args: ['echo', 42, '42'] }],
      ['c true t=true q="true"', { cmd: 'c', args: ['true'], opts: { t: true, q: 'true' } }],
    ];
    for (const [text, json] of pairs) {
      const a = decode(text);
      const b = decode(JSON.stringify(json));
      expect(a, text).toEqual(b);
      expect(a.ok, text).toBe(true);
    }
  });

  it('[cp-env-3] an envelope value of the wrong type from text is BAD_ENVELOPE with the id when one was readable', () => {
    expect(decode('id=t9 timeoutMs=soon exec ls')).toMatchObject({ ok: false, error: 'BAD_ENVELOPE', id: 't9' });
    expect(decode('v=2 id=t10 ping')).toMatchObject({ ok: false, error: 'UNSUPPORTED_VERSION', id: 't10' });
  });
});
