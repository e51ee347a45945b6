// `conplyent sign`: signs one command envelope from stdin for its destination topic, so mosquitto_pub,
// Node-RED and scripts can drive an agent that runs signed commands only [cp-sig-3] [cp-sig-4].
import type { Command } from 'commander';
import { decodeCommand, isHostName, loadKeyFile, MAX_COMMAND_BYTES, newJobId, parseTopic, signCommand, topics } from '../protocol/index.js';
import { ConfigError } from './config-error.js';
import { usageExit } from './usage-exit.js';

interface SignFlags {
  key: string;
  topic?: string;
  host?: string;
}

function destination(flags: SignFlags): string {
  if (flags.topic !== undefined && flags.host !== undefined) throw new ConfigError('give --host or --topic, not both');
  if (flags.host !== undefined) {
    if (!isHostName(flags.host)) throw new ConfigError(`--host "${flags.host}" is not a valid host name (for the fleet use --topic ${topics.fleetCmd()})`);
    return topics.cmd(flags.host);
  }
  if (flags.topic === undefined) throw new ConfigError('give --host H or --topic T: the signature covers the topic the command is published on');
  const kind = parseTopic(flags.topic)?.kind;
  if (kind !== 'cmd' && kind !== 'fleetCmd') throw new ConfigError(`--topic "${flags.topic}" is not a command topic (conplyent/<host>/cmd or ${topics.fleetCmd()})`);
  return flags.topic;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_COMMAND_BYTES) throw new ConfigError(`stdin: more than ${MAX_COMMAND_BYTES} bytes, the command size limit`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function registerSign(program: Command): void {
  usageExit(program.command('sign'))
    .description('sign the command envelope on stdin (JSON or a text command) for its topic; fills id and sentAt when absent; prints one JSON line')
    .requiredOption('--key <file>', 'private key file (NAME.key from conplyent key create)')
    .option('--host <host>', 'the command goes to conplyent/<host>/cmd')
    .option('--topic <topic>', `the command topic, e.g. ${topics.fleetCmd()} for a fleet command with a target`)
    .addHelpText(
      'after',
      `\nExamples:\n  echo '{"cmd":"exec","args":["uptime"]}' | conplyent sign --key ops.key --host web-1 | mosquitto_pub -q 1 -t conplyent/web-1/cmd -l\n  echo 'target=role=web ping' | conplyent sign --key ops.key --topic conplyent/_all/cmd | mosquitto_pub -q 1 -t conplyent/_all/cmd -l\n`,
    )
    .action(async (flags: SignFlags) => {
      const topic = destination(flags);
      let key;
      try {
        key = loadKeyFile(flags.key).privateKey;
      } catch (err) {
        throw new ConfigError(`--key: ${(err as Error).message}`);
      }
      if (!key) throw new ConfigError(`--key: ${flags.key} holds a public key; signing needs the private key file`);
      const decoded = decodeCommand(await readStdin());
      if (!decoded.ok) throw new ConfigError(`stdin: ${decoded.error}: ${decoded.message}`);
      const { id, sentAt, ...rest } = decoded.value;
      const env = { id: id ?? newJobId(), ...rest, sentAt: sentAt ?? Date.now() };
      try {
        process.stdout.write(`${JSON.stringify(signCommand(env, topic, key))}\n`);
      } catch (err) {
        throw new ConfigError(`stdin: ${(err as Error).message}`);
      }
    });
}
