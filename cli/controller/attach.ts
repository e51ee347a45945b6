// `conplyent attach <target> <job>`: follow a job already started (by someone else, by --async, or
// before Ctrl-C) on every selected host, from its first event.
import type { Command } from 'commander';
import { defineVerb, targetOf, withFleet } from './common.js';
import { addLayoutOptions, jobFlags } from './job-flags.js';
import { JobRenderer } from './render-job.js';

export function registerAttach(program: Command): void {
  const attach = defineVerb(program, 'attach <target> <job>', 'follow a job already running (or recently ended) on the selected hosts: its whole output from the start, then live', [
    'conplyent attach web-1 V1StGXR8_Z5jdHi6B-myT',
    "conplyent attach 'web-[1-3]' V1StGXR8_Z5jdHi6B-myT --timeout 3600",
    'conplyent attach all V1StGXR8_Z5jdHi6B-myT --fold     # results of an --async job',
    'conplyent jobs web-1 && conplyent attach web-1 <job id from the list> --json',
  ]);
  addLayoutOptions(attach).action(async (target: string, job: string, _o: unknown, cmd: Command) => {
    await withFleet(cmd, target, async ({ fleet, out, cfg }) => {
      const { fold, sort } = jobFlags(cmd);
      const handle = fleet.attach(targetOf(cmd, target), job, { waitMs: cfg.timeoutMs, keepOutput: false });
      const { exit } = await new JobRenderer(out, handle, { fold, sort, limits: { waitMs: cfg.timeoutMs }, control: { verb: 'attach', job } }).follow({ attach: true, target });
      return exit;
    });
  });
}
