import { describe, expect, it } from 'vitest';
import { clientOptions } from '../../controller/connection.js';
import { connect, ControllerError } from '../../controller/index.js';

describe('controller connection options', () => {
  it('MQTT 3.1.1 with a persistent session and a stable ctl- client id', () => {
    const o = clientOptions('mqtt://127.0.0.1:1883', {});
    expect(o.protocolVersion).toBe(4);
    expect(o.clean).toBe(false);
    expect(o.clientId).toMatch(/^ctl-[A-Za-z0-9_-]{12}$/);
    expect(clientOptions('mqtt://h', { clientId: 'ops-1' }).clientId).toBe('ops-1');
  });

  it('TLS material is a PEM string or a readable file; a bad path is a BAD_OPTION naming it', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(clientOptions('mqtts://h', { ca: pem }).ca).toEqual(Buffer.from(pem));
    expect(() => clientOptions('mqtts://h', { ca: '/no/such/ca.pem' })).toThrow(/ca: cannot read "\/no\/such\/ca.pem"/);
    expect(clientOptions('mqtts://h', { insecure: true }).rejectUnauthorized).toBe(false);
  });

  it('a bad URL or option is refused before any connection is tried', () => {
    expect(() => clientOptions('http://h', {})).toThrow(ControllerError);
    expect(() => clientOptions('not a url', {})).toThrow(/broker URL "not a url" is invalid/);
    expect(() => clientOptions('mqtt://h', { keepaliveSec: -1 })).toThrow(/keepaliveSec/);
  });

  it('connect to a port nobody listens on fails fast with a CONNECT error', async () => {
    const err = await connect('mqtt://127.0.0.1:1', { connectTimeoutMs: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ControllerError);
    expect(err.code).toBe('CONNECT');
  });
});
