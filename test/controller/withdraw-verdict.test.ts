// One verdict for a command withdrawn after it went to several hosts (one publish each), and the
// note the answer carries: never more reassuring than the least reassuring publish.
import { describe, expect, it } from 'vitest';
import { WITHDRAWAL_NOTE, combinedWithdrawal } from '../../controller/withdraw.js';

describe('a withdrawn command of several publishes', () => {
  it('is maybe-sent when any publish may have been written, whatever the others', () => {
    expect(combinedWithdrawal(['acknowledged', 'maybe-sent', 'never-sent'])).toBe('maybe-sent');
    expect(combinedWithdrawal(['never-sent', 'maybe-sent'])).toBe('maybe-sent');
  });

  it('is acknowledged when some reached the broker and the rest were never sent, and says so', () => {
    expect(combinedWithdrawal(['acknowledged', 'never-sent'])).toBe('acknowledged');
    expect(combinedWithdrawal(['acknowledged', 'acknowledged'])).toBe('acknowledged');
    expect(WITHDRAWAL_NOTE.acknowledged).toMatch(/reached the broker for some hosts.*withdrawn for the others/);
  });

  it('is never-sent only when no publish was written, or there was none', () => {
    expect(combinedWithdrawal(['never-sent', 'never-sent'])).toBe('never-sent');
    expect(combinedWithdrawal([])).toBe('never-sent');
    expect(WITHDRAWAL_NOTE['never-sent']).toMatch(/will not be sent/);
  });
});
