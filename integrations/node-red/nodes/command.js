// The `conplyent command` node: runs one command on every host a target selects.
// Output 1: one message per host result. Output 2: live output chunks. Output 3 (optional): one
// combined message when every host is done. Bad input goes to the error path; the node stays usable.
'use strict';
const { plainResult, summarize, notRunError } = require('./lib/results.js');

const DEFAULT_TIMEOUT_S = 60;
/** Beyond the job timeout: time for the kill, the result and the controller's own grace. */
const LATE_GRACE_MS = 10_000;

/** msg.args / the args setting: an array as is, a JSON array, or words separated by spaces. */
function parseArgs(value) {
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') {
    const s = value.trim();
    if (s.startsWith('[')) {
      const parsed = JSON.parse(s);
      if (!Array.isArray(parsed)) throw new TypeError('args must be a JSON array');
      return parsed;
    }
    return s.split(/\s+/).filter(Boolean);
  }
  return [value];
}

/** Everything a message asks for, checked once here; throws a TypeError naming the bad property. */
function request(config, msg) {
  const target = msg.target !== undefined ? msg.target : config.target;
  const command = msg.command !== undefined ? msg.command : config.command;
  const okTarget = (typeof target === 'string' && target.trim() !== '') || (Array.isArray(target) && target.length > 0);
  if (!okTarget) throw new TypeError('no target: set the node\'s Target or msg.target (a host, a glob like web-*, a label like role=web, or all)');
  if (typeof command !== 'string' || command.trim() === '') throw new TypeError('no command: set the node\'s Command or msg.command (e.g. exec)');
  let args;
  try {
    args = parseArgs(msg.args !== undefined ? msg.args : config.args);
  } catch (e) {
    throw new TypeError(`msg.args / Arguments: ${e.message}`);
  }
  const opts = msg.opts !== undefined ? msg.opts : {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new TypeError('msg.opts must be an object of named options');
  const timeout = Number(msg.timeout !== undefined ? msg.timeout : config.timeout || DEFAULT_TIMEOUT_S);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new TypeError(`timeout must be a positive number of seconds, got ${JSON.stringify(msg.timeout ?? config.timeout)}`);
  return { target: typeof target === 'string' ? target.trim() : target, command: command.trim(), args, opts, timeoutMs: Math.round(timeout * 1000) };
}

module.exports = function (RED) {
  function ConplyentCommandNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const broker = RED.nodes.getNode(config.broker);
    const combined = !!config.combined;
    let closed = false;
    node.status({});

    node.on('input', async function (msg, send, done) {
      send = send || node.send.bind(node);
      const fail = (err, text) => {
        node.status({ fill: 'red', shape: 'ring', text });
        done(err);
      };
      let req;
      try {
        req = request(config, msg);
      } catch (e) {
        return fail(e, 'bad input');
      }
      if (!broker) return fail(new Error('no conplyent-broker configured'), 'no broker');
      let fleet;
      try {
        fleet = await broker.fleet();
      } catch (e) {
        return fail(new Error(`broker unreachable: ${e.message}`), 'broker down');
      }
      // mqtt.js would queue the command until the broker is back, and nothing would bound the wait.
      if (!fleet.client.connected) return fail(new Error('broker unreachable: the connection was lost; reconnecting'), 'broker down');
      let job;
      try {
        job = fleet.run(req.target, req.command, req.args, { opts: req.opts, timeoutMs: req.timeoutMs });
      } catch (e) {
        return fail(e, 'bad input');
      }
      const label = Array.isArray(req.target) ? req.target.join(',') : req.target;
      if (job.noMatch) return fail(new Error(`target "${label}" matches no known host`), 'no host matches');
      const total = job.expected.length;
      node.status({ fill: 'blue', shape: 'dot', text: `0/${total} done` });
      const base = { job: job.id, target: req.target, command: req.command };
      const seen = [];
      // These run inside the MQTT client's message handler: a throw there would take Node-RED down.
      const guarded = (fn) => (item) => {
        try {
          fn(item);
        } catch (e) {
          node.error(e, msg);
        }
      };
      job.on('event', guarded(({ host, event }) => {
        if (closed || event.type !== 'output' || event.stream === 'update') return;
        const text = event.enc === 'base64' ? Buffer.from(event.data, 'base64').toString('utf8') : event.data;
        send([null, Object.assign({}, msg, base, { topic: host, host, stream: event.stream, payload: text }), null]);
      }));
      job.on('final', guarded(({ result }) => {
        if (closed) return;
        seen.push(result);
        const s = summarize(seen, job.expected);
        node.status({ fill: s.failed.length + s.notRun.length ? 'red' : 'blue', shape: 'dot', text: badge(s, total) });
        const out = RED.util.cloneMessage(msg);
        send([Object.assign(out, base, { topic: result.host, payload: plainResult(result) }), null, null]);
      }));
      // The controller bounds each host's wait once the command is out; this bounds getting it out.
      let timer;
      const late = new Promise((resolve) => (timer = setTimeout(resolve, req.timeoutMs + LATE_GRACE_MS)));
      const results = await Promise.race([job.done(), late]);
      clearTimeout(timer);
      if (closed) return done();
      if (!results) return fail(new Error(`broker unreachable: the command could not be sent within ${req.timeoutMs + LATE_GRACE_MS} ms`), 'broker down');
      const s = summarize(results, job.expected);
      node.status({ fill: s.failed.length + s.notRun.length ? 'red' : 'green', shape: 'dot', text: badge(s, total) });
      const payload = { job: job.id, target: req.target, command: req.command, expected: [...job.expected], ...s, results: results.map(plainResult) };
      if (combined) send([null, null, Object.assign(RED.util.cloneMessage(msg), base, { topic: label, payload })]);
      const why = notRunError(results);
      if (why) {
        // A copy carrying the combined outcome, so a Catch node sees who did not run it.
        const err = new Error(why);
        msg.payload = payload;
        return done(err);
      }
      done();
    });

    node.on('close', function () {
      closed = true;
      node.status({});
    });
  }

  /** "3/5 done, 1 failed" — done counts hosts that ran the command to an exit code. */
  function badge(s, total) {
    const parts = [`${s.done}/${total} done`];
    if (s.failed.length) parts.push(`${s.failed.length} failed`);
    if (s.notRun.length) parts.push(`${s.notRun.length} not run`);
    return parts.join(', ');
  }

  RED.nodes.registerType('conplyent-command', ConplyentCommandNode);
};
