// The role rules as pure functions: what each role may publish and subscribe to.
import { describe, expect, it } from 'vitest';
import { canPublish, canSetWill, canSubscribe, type Principal } from '../../broker/index.js';
import { topics } from '../../protocol/index.js';

const agent: Principal = { name: 'web-1', role: 'agent' };
const controller: Principal = { name: 'ops', role: 'controller' };
const observer: Principal = { name: 'watcher', role: 'observer' };

describe('agent role', () => {
  it('publishes only under its own name: job events, status, errors', () => {
    expect(canPublish(agent, topics.job('web-1', 'j1'))).toBe(true);
    expect(canPublish(agent, topics.status('web-1'))).toBe(true);
    expect(canPublish(agent, topics.errors('web-1'))).toBe(true);
    expect(canPublish(agent, topics.job('web-2', 'j1'))).toBe(false);
    expect(canPublish(agent, topics.status('web-2'))).toBe(false);
    expect(canPublish(agent, topics.cmd('web-1'))).toBe(false);
    expect(canPublish(agent, topics.fleetCmd())).toBe(false);
  });

  it('subscribes only to its own cmd, the fleet cmd and its own status, without wildcards', () => {
    expect(canSubscribe(agent, topics.cmd('web-1'))).toBe(true);
    expect(canSubscribe(agent, topics.fleetCmd())).toBe(true);
    expect(canSubscribe(agent, topics.status('web-1'))).toBe(true);
    for (const f of [topics.cmd('web-2'), 'conplyent/+/cmd', 'conplyent/#', '#', '+/web-1/cmd', topics.jobsOfHost('web-1')]) {
      expect(canSubscribe(agent, f), f).toBe(false);
    }
  });

  it('may set a Will only on its own status topic', () => {
    expect(canSetWill(agent, topics.status('web-1'))).toBe(true);
    expect(canSetWill(agent, topics.status('web-2'))).toBe(false);
    expect(canSetWill(agent, topics.job('web-1', 'j'))).toBe(false);
  });
});

describe('controller and observer roles', () => {
  it('controller publishes commands to one host or the fleet, nothing else', () => {
    expect(canPublish(controller, topics.cmd('web-1'))).toBe(true);
    expect(canPublish(controller, topics.fleetCmd())).toBe(true);
    expect(canPublish(controller, topics.status('web-1'))).toBe(false);
    expect(canPublish(controller, topics.job('web-1', 'j'))).toBe(false);
  });

  it('controller and observer read anything under conplyent/ but not beyond', () => {
    for (const p of [controller, observer]) {
      expect(canSubscribe(p, topics.everything())).toBe(true);
      expect(canSubscribe(p, topics.allStatus())).toBe(true);
      expect(canSubscribe(p, '#')).toBe(false);
      expect(canSubscribe(p, '$SYS/#')).toBe(false);
      expect(canSubscribe(p, 'other/app')).toBe(false);
    }
  });

  it('observer publishes nothing', () => {
    expect(canPublish(observer, topics.cmd('web-1'))).toBe(false);
    expect(canPublish(observer, topics.fleetCmd())).toBe(false);
  });
});

describe('unsafe topics', () => {
  it('rejects $ topics, NUL, wildcards and invalid names for every role', () => {
    for (const p of [agent, controller]) {
      for (const t of ['$SYS/x', 'conplyent/web-1/job/a\u0000b', 'conplyent/+/cmd', 'conplyent/#', 'conplyent/web$1/cmd', 'conplyent/web-1/job/a/b', '']) {
        expect(canPublish(p, t), JSON.stringify(t)).toBe(false);
      }
      expect(canSubscribe(p, 'conplyent/\u0000')).toBe(false);
    }
  });
});
