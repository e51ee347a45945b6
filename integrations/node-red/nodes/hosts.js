// The `conplyent hosts` node: presence changes as messages (online/offline, facts, labels, commands).
'use strict';

const RETRY_MS = 5000;

function hostPayload(h) {
  return { host: h.name, online: h.online, since: h.since, labels: h.labels, facts: h.facts, commands: h.commands, ...(h.reason ? { reason: h.reason } : {}) };
}

module.exports = function (RED) {
  function ConplyentHostsNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const broker = RED.nodes.getNode(config.broker);
    const filter = String(config.target || '').trim();
    let fleet;
    let retry;
    let closed = false;

    const selected = (name) => {
      if (!filter) return true;
      try {
        return fleet.resolve(filter).expected.includes(name);
      } catch {
        return false;
      }
    };
    const badge = () => {
      const all = fleet.hosts().filter((h) => selected(h.name));
      node.status({ fill: 'green', shape: 'dot', text: `${all.filter((h) => h.online).length}/${all.length} online` });
    };
    // Runs inside the MQTT client's message handler: a throw there would take Node-RED down.
    const onPresence = (change) => {
      try {
        report(change);
      } catch (e) {
        node.error(e);
      }
    };
    const report = ({ host, previous }) => {
      if (!selected(host.name)) return;
      // Only real changes: a host re-announcing the same state is not news.
      if (previous && previous.online === host.online && JSON.stringify(previous.labels) === JSON.stringify(host.labels)) return badge();
      node.send({ topic: host.name, event: host.online ? 'online' : 'offline', payload: hostPayload(host), previous: previous ? hostPayload(previous) : undefined });
      badge();
    };

    const start = async () => {
      if (!broker) return node.status({ fill: 'red', shape: 'ring', text: 'no broker' });
      try {
        fleet = await broker.fleet();
      } catch (e) {
        if (closed) return;
        node.status({ fill: 'red', shape: 'ring', text: 'broker down' });
        node.warn(`broker unreachable, retrying in ${RETRY_MS / 1000} s: ${e.message}`);
        retry = setTimeout(start, RETRY_MS);
        return;
      }
      if (closed) return;
      fleet.on('presence', onPresence);
      // Hosts known before we listened are reported once, as the starting picture.
      for (const h of fleet.hosts()) if (selected(h.name)) node.send({ topic: h.name, event: h.online ? 'online' : 'offline', payload: hostPayload(h) });
      badge();
    };

    // Any input: the current list of (selected) hosts as one message.
    node.on('input', function (msg, send, done) {
      if (!fleet) return done(new Error('not connected to the broker yet'));
      msg.payload = fleet.hosts().filter((h) => selected(h.name)).map(hostPayload);
      send(msg);
      done();
    });

    node.on('close', function () {
      closed = true;
      clearTimeout(retry);
      if (fleet) fleet.removeListener('presence', onPresence);
    });

    start();
  }

  RED.nodes.registerType('conplyent-hosts', ConplyentHostsNode);
};
