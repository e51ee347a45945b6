// The conplyent-broker config node: one controller connection (a Fleet) shared by every node that
// uses it. Credentials and TLS material live in Node-RED's encrypted credentials file, never in the flow.
'use strict';
const { createPrivateKey } = require('node:crypto');
const { loadController } = require('./lib/controller.js');

/** How long to wait for the broker before a message fails with CONNECT (the node stays usable). */
const CONNECT_TIMEOUT_MS = 5000;

module.exports = function (RED) {
  function ConplyentBrokerNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    node.url = String(config.url || '').trim();
    node.insecure = !!config.insecure;
    let pending; // Promise<Fleet> while connecting or connected
    let closed = false;

    /** The shared Fleet; a failed connect is not cached, so the next message tries again. */
    node.fleet = function () {
      if (closed) return Promise.reject(new Error('the conplyent-broker node was closed (redeploy)'));
      if (!node.url) return Promise.reject(new Error('the conplyent-broker node has no URL (e.g. mqtt://localhost:1883)'));
      if (!pending) {
        const c = node.credentials || {};
        let signingKey;
        if (c.signingKey) {
          try {
            signingKey = createPrivateKey(c.signingKey);
          } catch (e) {
            return Promise.reject(new Error(`the signing key of conplyent-broker "${node.name || node.url}" is not a PEM private key (conplyent key create writes NAME.key): ${e.message}`));
          }
        }
        const opts = {
          // The controller keeps a persistent session; a stable id per config node reuses it across
          // redeploys and restarts instead of leaving one orphaned session (and its queue) each time.
          clientId: `nodered-${node.id}`,
          connectTimeoutMs: CONNECT_TIMEOUT_MS,
          insecure: node.insecure,
          ...(c.username ? { username: c.username } : {}),
          ...(c.password ? { password: c.password } : {}),
          ...(c.ca ? { ca: c.ca } : {}),
          ...(c.cert ? { cert: c.cert } : {}),
          ...(c.key ? { key: c.key } : {}),
          // Every command is signed [cp-sig-*]; agent keys are pinned on first contact for as long
          // as the node is deployed, and a result not signed by the pinned key is `forged`.
          ...(signingKey ? { signingKey } : {}),
        };
        pending = loadController()
          .then(({ connect }) => connect(node.url, opts))
          .then((fleet) => {
            if (closed) return fleet.close().then(() => Promise.reject(new Error('closed while connecting')));
            fleet.setMaxListeners(0); // one presence listener per hosts node
            return fleet;
          });
        pending.catch(() => (pending = undefined));
      }
      return pending;
    };

    node.on('close', function (done) {
      closed = true;
      const p = pending;
      pending = undefined;
      if (!p) return done();
      p.then((f) => f.close()).catch(() => {}).then(() => done());
    });
  }

  RED.nodes.registerType('conplyent-broker', ConplyentBrokerNode, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      ca: { type: 'text' },
      cert: { type: 'text' },
      key: { type: 'password' },
      signingKey: { type: 'password' },
    },
  });

  // The editor's command field: the commands the targeted hosts announce in their presence.
  RED.httpAdmin.get('/conplyent/commands', RED.auth.needsPermission('conplyent-command.read'), async function (req, res) {
    const broker = RED.nodes.getNode(String(req.query.broker || ''));
    if (!broker || typeof broker.fleet !== 'function') {
      return res.json({ commands: [], hosts: [], message: 'deploy the conplyent-broker node first to list commands' });
    }
    try {
      const fleet = await broker.fleet();
      const target = String(req.query.target || '').trim() || 'all';
      let names;
      try {
        names = fleet.resolve(target).expected;
      } catch (e) {
        return res.json({ commands: [], hosts: [], message: e.message });
      }
      const byName = new Map();
      for (const h of names) {
        for (const c of fleet.host(h)?.commands ?? []) {
          const entry = byName.get(c.name) ?? { name: c.name, kind: c.kind, usage: c.usage ?? '', summary: c.summary ?? '', hosts: [] };
          entry.hosts.push(h);
          byName.set(c.name, entry);
        }
      }
      const commands = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
      res.json({ commands, hosts: names });
    } catch (e) {
      res.json({ commands: [], hosts: [], message: `cannot reach the broker: ${e.message}` });
    }
  });
};
