// `conplyent attach <host> <job>`: follow a job someone else started, from its first event.
import type { Command } from 'commander';
import { defineVerb, withFleet } from './common.js';
import { JobRenderer } from './render-job.js';

export function registerAttach(program: Command): void {
  defineVerb(program, 'attach <host> <job>', "follow a job already running (or recently ended) on a host: its whole output from the start, then live", [
    'conplyent attach web-1 V1StGXR8_Z5jdHi6B-myT',
    'conplyent attach web-1 V1StGXR8_Z5jdHi6B-myT --timeout 3600',
    'conplyent jobs web-1 && conplyent attach web-1 <job id from the list> --json',
  ]).action(async (host: string, job: string, _o: unknown, cmd: Command) => {
    await withFleet(cmd, async ({ fleet, out, cfg }) => {
      const handle = fleet.attach(host, job, { waitMs: cfg.timeoutMs, keepOutput: false });
      const { exit } = await new JobRenderer(out, handle).follow({ attach: true, host });
      return exit;
    });
  });
}
