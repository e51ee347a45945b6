// Writes flows.json from functions.mjs: run `node examples/node-red/make-flows.mjs` after editing a function.
import { writeFileSync } from 'node:fs';
import * as fn from './functions.mjs';

const z = 'cp_tab';
const broker = 'cp_broker';
const nodes = [
  { id: z, type: 'tab', label: 'conplyent', disabled: false, info: 'Runs commands on conplyent agents over plain MQTT. See examples/node-red/README.md.' },
  {
    id: broker, type: 'mqtt-broker', name: 'conplyent broker', broker: 'localhost', port: '1883', clientid: '', autoConnect: true,
    usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true,
    birthTopic: '', birthQos: '0', birthRetain: 'false', birthPayload: '', birthMsg: {},
    closeTopic: '', closeQos: '0', closeRetain: 'false', closePayload: '', closeMsg: {},
    willTopic: '', willQos: '0', willRetain: 'false', willPayload: '', willMsg: {}, userProps: '', sessionExpiry: '',
  },
];
const add = (n) => (nodes.push({ z, ...n }), n.id);
const func = (id, name, code, outputs, x, y, wires) => add({ id, type: 'function', name, func: code, outputs, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x, y, wires });
const debug = (id, name, x, y, active = true) => add({ id, type: 'debug', name, active, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x, y, wires: [] });
const httpIn = (id, url, x, y, wires) => add({ id, type: 'http in', name: '', url, method: 'get', upload: false, swaggerDoc: '', x, y, wires });
const httpOut = (id, x, y) => add({ id, type: 'http response', name: '', statusCode: '', headers: { 'content-type': 'application/json' }, x, y, wires: [] });
const comment = (id, name, info, x, y) => add({ id, type: 'comment', name, info, x, y, wires: [] });
const mqttOut = (id, x, y) => add({ id, type: 'mqtt out', name: 'command (QoS 1, not retained)', topic: '', qos: '1', retain: 'false', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker, x, y, wires: [] });

// Presence: the retained status of every host, kept in flow context as the expected set.
comment('cp_c0', 'Presence: retained conplyent/+/status → flow.hosts', '', 170, 40);
add({ id: 'cp_status', type: 'mqtt in', name: '', topic: 'conplyent/+/status', qos: '1', datatype: 'auto-detect', broker, nl: false, rap: true, rh: 0, inputs: 0, x: 150, y: 80, wires: [['cp_presence']] });
func('cp_presence', 'presence → flow.hosts', fn.presence, 1, 400, 80, [['cp_dbg_presence']]);
debug('cp_dbg_presence', 'presence changes', 640, 80, false);

// Every job event of every job; the router hands each to the path that started it.
comment('cp_c1', 'Job events: conplyent/+/job/+ → the path whose job id it is', '', 220, 140);
add({ id: 'cp_events', type: 'mqtt in', name: '', topic: 'conplyent/+/job/+', qos: '1', datatype: 'json', broker, nl: false, rap: true, rh: 0, inputs: 0, x: 150, y: 180, wires: [['cp_route']] });
func('cp_route', 'route by job id', fn.routeEvents, 3, 380, 180, [['cp_up_result'], ['cp_bc_result'], ['cp_st_lines']]);

// (a) exec uptime on one host; success and failure routed by exit code.
comment('cp_c2', '(a) exec uptime on one host, routed by exit code', 'GET /conplyent/uptime?host=web-1\nGET /conplyent/exec?host=web-1&line=false (a failing command)', 210, 260);
httpIn('cp_up_http', '/conplyent/uptime', 150, 300, [['cp_up_cmd']]);
httpIn('cp_exec_http', '/conplyent/exec', 140, 340, [['cp_up_cmd']]);
add({ id: 'cp_up_inject', type: 'inject', name: 'uptime on web-1', props: [{ p: 'host', v: 'web-1', vt: 'str' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 150, y: 380, wires: [['cp_up_cmd']] });
func('cp_up_cmd', 'exec uptime → conplyent/<host>/cmd', fn.uptimeCommand, 2, 420, 340, [['cp_mqtt_out'], ['cp_exit_switch']]);
mqttOut('cp_mqtt_out', 730, 400);
func('cp_up_result', 'collect output until the result', fn.uptimeResult, 1, 690, 260, [['cp_exit_switch']]);
add({ id: 'cp_exit_switch', type: 'switch', name: 'exit code 0?', property: 'payload.code', propertyType: 'msg', rules: [{ t: 'eq', v: '0', vt: 'num' }, { t: 'else' }], checkall: 'false', repair: false, outputs: 2, x: 920, y: 300, wires: [['cp_ok'], ['cp_fail']] });
func('cp_ok', 'success', fn.success, 1, 1070, 280, [['cp_dbg_ok', 'cp_http_switch']]);
func('cp_fail', 'failure', fn.failure, 1, 1070, 320, [['cp_dbg_fail', 'cp_http_switch']]);
debug('cp_dbg_ok', 'uptime ok', 1240, 240);
debug('cp_dbg_fail', 'uptime failed', 1250, 360);
add({ id: 'cp_http_switch', type: 'switch', name: 'came over HTTP?', property: 'res', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, x: 1250, y: 300, wires: [['cp_http_out_a']] });
httpOut('cp_http_out_a', 1420, 300);

// (b) one publish to a label; join the per-host results; name who did not answer.
comment('cp_c3', '(b) broadcast to role=web with ONE publish, join per-host results', 'GET /conplyent/broadcast?target=role%3Dweb\nThe join node waits for every online expected host, at most its timeout (5 s).', 250, 480);
httpIn('cp_bc_http', '/conplyent/broadcast', 160, 520, [['cp_bc_cmd']]);
add({ id: 'cp_bc_inject', type: 'inject', name: 'uptime on role=web', props: [{ p: 'target', v: 'role=web', vt: 'str' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 160, y: 560, wires: [['cp_bc_cmd']] });
func('cp_bc_cmd', 'target → conplyent/_all/cmd', fn.broadcast, 3, 420, 540, [['cp_mqtt_out_b'], ['cp_join'], ['cp_http_switch_b']]);
mqttOut('cp_mqtt_out_b', 730, 520);
func('cp_bc_result', 'one part per host', fn.fleetResult, 1, 690, 600, [['cp_join']]);
add({ id: 'cp_join', type: 'join', name: 'every host or 5 s', mode: 'custom', build: 'object', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', useparts: true, accumulate: false, timeout: '5', count: '', reduceRight: false, reduceExp: '', reduceInit: '', reduceInitType: '', reduceFixup: '', x: 920, y: 580, wires: [['cp_missing']] });
func('cp_missing', 'name hosts that did not answer', fn.nameMissing, 1, 1170, 580, [['cp_dbg_bc', 'cp_http_switch_b']]);
debug('cp_dbg_bc', 'fleet result', 1420, 540);
add({ id: 'cp_http_switch_b', type: 'switch', name: 'came over HTTP?', property: 'res', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, x: 1430, y: 620, wires: [['cp_http_out_b']] });
httpOut('cp_http_out_b', 1600, 620);

// (c) a long job's output, line by line, into a debug node.
comment('cp_c4', '(c) stream a long job line by line', 'GET /conplyent/stream?host=web-1&count=20', 180, 680);
httpIn('cp_st_http', '/conplyent/stream', 150, 720, [['cp_st_cmd']]);
add({ id: 'cp_st_inject', type: 'inject', name: '20 lines on web-1', props: [{ p: 'host', v: 'web-1', vt: 'str' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 160, y: 760, wires: [['cp_st_cmd']] });
func('cp_st_cmd', 'long job → conplyent/<host>/cmd', fn.streamCommand, 2, 420, 740, [['cp_mqtt_out_c'], ['cp_http_switch_c']]);
mqttOut('cp_mqtt_out_c', 730, 800);
func('cp_st_lines', 'split output into lines', fn.splitLines, 2, 690, 680, [['cp_dbg_lines'], ['cp_http_switch_c']]);
debug('cp_dbg_lines', 'streamed lines', 930, 660);
add({ id: 'cp_http_switch_c', type: 'switch', name: 'came over HTTP?', property: 'res', propertyType: 'msg', rules: [{ t: 'nnull' }], checkall: 'true', repair: false, outputs: 1, x: 940, y: 740, wires: [['cp_http_out_c']] });
httpOut('cp_http_out_c', 1110, 740);

writeFileSync(new URL('./flows.json', import.meta.url), JSON.stringify(nodes, null, 2) + '\n');
