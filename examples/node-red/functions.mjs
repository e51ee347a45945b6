// The function-node bodies of flows.json, kept as readable code; make-flows.mjs embeds them.
// They only use what a stock Node-RED function node has: msg, node, flow, setTimeout.

/** Shared preamble: a job id the flow chooses, and the pending-job table in flow context. */
const common = String.raw`
const newId = (p) => 'nr-' + p + '-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
`;

export const presence = String.raw`// Keeps flow.hosts from the retained presence on conplyent/+/status.
const host = msg.topic.split('/')[1];
const hosts = flow.get('hosts') || {};
const p = msg.payload;
if (p === '' || p == null || (Buffer.isBuffer(p) && p.length === 0)) {
    delete hosts[host]; // an empty retained status: the host was decommissioned
    flow.set('hosts', hosts);
    return null;
}
if (typeof p !== 'object' || typeof p.online !== 'boolean') return null;
const prev = hosts[host];
// (boot, conn) only grows: a late Last Will of an old connection must not mark a newer one offline.
if (prev && (p.boot < prev.boot || (p.boot === prev.boot && p.conn < prev.conn))) return null;
const labels = p.labels && Object.keys(p.labels).length > 0 ? p.labels : (prev ? prev.labels : {});
hosts[host] = { online: p.online, labels, boot: p.boot, conn: p.conn };
flow.set('hosts', hosts);
msg.payload = { host, online: p.online, labels, reason: p.reason };
return msg;`;

export const uptimeCommand = common + String.raw`// GET /conplyent/uptime?host=NAME, /conplyent/exec?host=NAME&line=PROGRAM+ARGS, or an inject with msg.host.
const q = (msg.req && msg.req.query) || {};
const host = String(q.host || msg.host || 'web-1');
const line = String(q.line || msg.line || 'uptime').trim();
const fail = (error, message) => { msg.payload = { host, code: null, error, message }; return [null, msg]; };
if (!HOST_RE.test(host)) return fail('BAD_HOST', 'host "' + host + '" is not a valid host name');
const known = (flow.get('hosts') || {})[host];
if (!known) return fail('UNKNOWN_HOST', host + ' has never announced itself on conplyent/' + host + '/status');
if (!known.online) return fail('OFFLINE', host + ' is offline');
const id = newId('up');
const pending = flow.get('pending') || {};
pending[id] = { kind: 'one', host, msg, stdout: '', stderr: '', outputs: 0 };
flow.set('pending', pending);
const timeoutMs = 15000;
setTimeout(() => {
    const p = flow.get('pending') || {};
    if (!p[id]) return;
    delete p[id];
    flow.set('pending', p);
    msg.payload = { host, job: id, code: null, error: 'NO_ANSWER', message: host + ' did not answer within ' + timeoutMs + ' ms' };
    node.send([null, msg]);
}, timeoutMs);
const envelope = { v: 1, id, cmd: 'exec', args: line.split(/\s+/), sentAt: Date.now(), ttlMs: timeoutMs, from: 'node-red' };
return [{ topic: 'conplyent/' + host + '/cmd', payload: JSON.stringify(envelope) }, null];`;

export const routeEvents = String.raw`// One subscription for every job event; each goes to the path that started the job (by its id).
const parts = msg.topic.split('/'); // conplyent/<host>/job/<id>
const job = (flow.get('pending') || {})[parts[3]];
if (!job || !msg.payload || typeof msg.payload.type !== 'string') return null; // not one of ours
msg.host = parts[1];
msg.job = parts[3];
return [job.kind === 'one' ? msg : null, job.kind === 'fleet' ? msg : null, job.kind === 'stream' ? msg : null];`;

const collect = String.raw`
// Output events arrive before the terminal one (QoS 1, one publisher, one topic).
function collect(job, host, ev) {
    const o = job.out ? (job.out[host] = job.out[host] || { stdout: '', stderr: '', outputs: 0 }) : job;
    if (ev.type === 'output') {
        o.outputs++;
        const text = ev.enc === 'base64' ? Buffer.from(ev.data, 'base64').toString('utf8') : ev.data;
        if (ev.stream === 'stdout') o.stdout += text;
        else if (ev.stream === 'stderr') o.stderr += text;
        return undefined;
    }
    if (ev.type !== 'result' && ev.type !== 'error' && ev.type !== 'lost') return undefined;
    const r = { host, code: ev.code, stdout: o.stdout, stderr: o.stderr, durationMs: ev.durationMs == null ? null : ev.durationMs };
    if (ev.type === 'result' && ev.value !== undefined) r.value = ev.value;
    if (ev.type !== 'result') { r.error = ev.error || 'LOST'; r.message = ev.message; }
    if (ev.timedOut) r.timedOut = true;
    // Never hide a hole: the terminal event says how many output events there were.
    if (typeof ev.events === 'number' && ev.events > o.outputs) r.missingOutputEvents = ev.events - o.outputs;
    return r;
}
`;

export const uptimeResult = collect + String.raw`const pending = flow.get('pending') || {};
const job = pending[msg.job];
if (!job) return null;
const r = collect(job, msg.host, msg.payload);
if (!r) return null;
delete pending[msg.job];
flow.set('pending', pending);
job.msg.payload = Object.assign({ job: msg.job }, r);
return job.msg;`;

export const success = String.raw`msg.statusCode = 200;
msg.payload.route = 'success';
return msg;`;

export const failure = String.raw`// Exit code other than 0, an agent error event, or no answer.
msg.statusCode = 502;
msg.payload.route = 'failure';
return msg;`;

export const broadcast = common + String.raw`// GET /conplyent/broadcast?target=role%3Dweb: ONE publish on conplyent/_all/cmd; every agent checks the target.
const q = (msg.req && msg.req.query) || {};
const target = String(q.target || msg.target || 'role=web');
const line = String(q.line || msg.line || 'uptime').trim();
// The selector grammar of topics.md, enough of it to know whom to expect: all, key=value, names, globs.
function matcher(source) {
    const sel = { all: false, names: [], globs: [], labels: {} };
    for (const term of source.split(',').map((t) => t.trim()).filter(Boolean)) {
        if (term === 'all' || term === '*') sel.all = true;
        else if (term.includes('=')) sel.labels[term.slice(0, term.indexOf('='))] = term.slice(term.indexOf('=') + 1);
        else if (/[*?]/.test(term)) sel.globs.push(term);
        else sel.names.push(term);
    }
    return (name, labels) => {
        for (const k of Object.keys(sel.labels)) if (labels[k] !== sel.labels[k]) return false;
        if (sel.all) return true;
        if (sel.names.length === 0 && sel.globs.length === 0) return Object.keys(sel.labels).length > 0;
        return sel.names.includes(name) || sel.globs.some((g) => glob(g, name));
    };
}
// Wildcard match without a backtracking RegExp: a glob like '*'x60 + 'Z' must not freeze the flow.
function glob(p, s) {
    let i = 0, j = 0, star = -1, mark = 0;
    while (j < s.length) {
        if (i < p.length && (p[i] === '?' || p[i] === s[j])) { i++; j++; }
        else if (i < p.length && p[i] === '*') { star = i++; mark = j; }
        else if (star >= 0) { i = star + 1; j = ++mark; }
        else return false;
    }
    while (i < p.length && p[i] === '*') i++;
    return i === p.length;
}
const hosts = flow.get('hosts') || {};
const matches = matcher(target);
const expected = Object.keys(hosts).filter((h) => matches(h, hosts[h].labels || {})).sort();
if (expected.length === 0) {
    msg.statusCode = 404;
    msg.payload = { target, error: 'NO_MATCH', message: 'target "' + target + '" matches no known host' };
    return [null, null, msg];
}
const offline = expected.filter((h) => !hosts[h].online);
const id = newId('bc');
const pending = flow.get('pending') || {};
pending[id] = { kind: 'fleet', out: {}, count: expected.length - offline.length + 1 };
flow.set('pending', pending);
// The join node's timeout bounds the wait; forget the job a little after it.
setTimeout(() => { const p = flow.get('pending') || {}; delete p[id]; flow.set('pending', p); }, 60000);
const ttlMs = 10000; // an offline host must not run it later, when nobody waits for the answer any more
const envelope = { v: 1, id, cmd: 'exec', args: line.split(/\s+/), target, sentAt: Date.now(), ttlMs, from: 'node-red' };
// The first part of the join group: it carries the HTTP response object and the expected set.
msg.topic = '_request';
msg.parts = { id, count: pending[id].count };
msg.payload = { target, job: id, expected, offline };
return [{ topic: 'conplyent/_all/cmd', payload: JSON.stringify(envelope) }, msg, null];`;

export const fleetResult = collect + String.raw`const job = (flow.get('pending') || {})[msg.job];
if (!job) return null;
const r = collect(job, msg.host, msg.payload);
if (!r) return null;
// One part per host, keyed by host name, grouped by the job id the flow chose.
return { topic: msg.host, parts: { id: msg.job, count: job.count }, payload: r };`;

export const nameMissing = String.raw`// The join emitted: every expected host answered, or its timeout passed. Name who did not answer.
const all = msg.payload;
const req = all._request;
delete all._request;
const answered = Object.keys(all).sort();
const notAnswered = req.expected.filter((h) => !answered.includes(h));
const failed = answered.filter((h) => all[h].code !== 0);
msg.payload = { target: req.target, job: req.job, expected: req.expected, results: all, notAnswered, offline: req.offline, failed, complete: notAnswered.length === 0 };
msg.statusCode = 200;
return msg;`;

export const streamCommand = common + String.raw`// GET /conplyent/stream?host=NAME&count=N: a job that prints N lines, one every 0.3 s.
const q = (msg.req && msg.req.query) || {};
const host = String(q.host || msg.host || 'web-1');
const count = Math.max(1, Math.min(1000, parseInt(q.count || msg.count || '20', 10) || 20));
if (!HOST_RE.test(host) || !((flow.get('hosts') || {})[host] || {}).online) {
    msg.statusCode = 404;
    msg.payload = { host, error: 'OFFLINE', message: host + ' is not an online host' };
    return [null, msg];
}
const id = newId('st');
const pending = flow.get('pending') || {};
pending[id] = { kind: 'stream', host, msg, partial: {}, lines: [], dropped: 0 };
flow.set('pending', pending);
const script = 'i=1; while [ $i -le ' + count + ' ]; do echo "line $i"; i=$((i+1)); sleep 0.3; done';
const envelope = { v: 1, id, cmd: 'exec', args: ['sh', '-c', script], sentAt: Date.now(), ttlMs: 10000, timeoutMs: count * 1000 + 5000, from: 'node-red' };
return [{ topic: 'conplyent/' + host + '/cmd', payload: JSON.stringify(envelope) }, null];`;

export const splitLines = String.raw`// Output chunks are not lines: keep the unfinished tail per stream and emit whole lines only.
const pending = flow.get('pending') || {};
const job = pending[msg.job];
const ev = msg.payload;
if (!job) return null;
const MAX_KEPT = 1000; // lines kept for the HTTP reply; the debug node sees them all
const emit = [];
const line = (stream, text) => {
    emit.push({ topic: msg.host + '/' + stream, payload: text, host: msg.host, job: msg.job, stream });
    if (job.lines.length < MAX_KEPT) job.lines.push(text); else job.dropped++;
};
if (ev.type === 'output' && ev.stream !== 'update') {
    const text = (job.partial[ev.stream] || '') + (ev.enc === 'base64' ? Buffer.from(ev.data, 'base64').toString('utf8') : ev.data);
    const pieces = text.split('\n');
    job.partial[ev.stream] = pieces.pop();
    for (const p of pieces) line(ev.stream, p);
    return [emit, null];
}
if (ev.type !== 'result' && ev.type !== 'error' && ev.type !== 'lost') return null;
for (const s of Object.keys(job.partial)) if (job.partial[s]) line(s, job.partial[s]);
delete pending[msg.job];
flow.set('pending', pending);
job.msg.statusCode = ev.code === 0 ? 200 : 502;
job.msg.payload = { host: msg.host, job: msg.job, code: ev.code, lines: job.lines, droppedLines: job.dropped, error: ev.error, message: ev.message };
return [emit, job.msg];`;
