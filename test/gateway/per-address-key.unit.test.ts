// What per-address limits count under (gateway/rate-limit.ts `limitKey`, applied inside `PerIpLimits`,
// which both transports' admission and Socket.IO's check of unknown sessions call with the TCP peer's
// address): an IPv4 address alone, an IPv6 address by its /64; and the gateway-wide cap on connections
// not yet authenticated (`PreAuthCap`).
import { limitKey, PerIpLimits, PreAuthCap } from '../../gateway/rate-limit';

describe('limitKey', () => {
  test('IPv4 addresses, and IPv4-mapped IPv6 ones, are each their own key', () => {
    expect(limitKey('203.0.113.7')).toBe('203.0.113.7');
    expect(limitKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(limitKey('203.0.113.8')).toBe('203.0.113.8');
  });

  test('an IPv6 address counts under its /64, however it is written', () => {
    expect(limitKey('2001:db8:1:2::5')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8:1:2:0:0:0:1')).toBe('2001:db8:1:2::/64');
    expect(limitKey('2001:db8:1:3::5')).toBe('2001:db8:1:3::/64');
    expect(limitKey('::1')).toBe('::/64');
  });

  test('what is not an address is kept as given', () => {
    expect(limitKey('unknown')).toBe('unknown');
  });
});

describe('PerIpLimits keyed by limitKey', () => {
  test('addresses of one IPv6 /64 share the cap on open connections; another /64 and IPv4 addresses do not', () => {
    const limits = new PerIpLimits({ maxConnections: 2, handshakesPerSecond: 0 });
    try {
      expect(limits.admit('2001:db8:1:2::a')).toBeUndefined();
      limits.opened('2001:db8:1:2::a');
      expect(limits.admit('2001:db8:1:2::b')).toBeUndefined();
      const release = limits.opened('2001:db8:1:2::b');
      // A third address of the same /64 finds it full.
      expect(limits.admit('2001:db8:1:2:ffff::c')).toBe('too many connections');
      expect(limits.openFrom('2001:db8:1:2::d')).toBe(2);
      expect(limits.admit('2001:db8:1:3::a')).toBeUndefined();
      limits.opened('192.0.2.1');
      limits.opened('192.0.2.1');
      expect(limits.admit('192.0.2.1')).toBe('too many connections');
      expect(limits.admit('192.0.2.2')).toBeUndefined();
      release();
      expect(limits.admit('2001:db8:1:2::e')).toBeUndefined();
    } finally {
      limits.stop();
    }
  });

  test('handshakes per second are counted per /64 too', () => {
    // 1/s sustained, bursts of 2.
    const limits = new PerIpLimits({ maxConnections: 0, handshakesPerSecond: 1 });
    try {
      expect(limits.admit('2001:db8:9:9::1')).toBeUndefined();
      expect(limits.admit('2001:db8:9:9::2')).toBeUndefined();
      expect(limits.admit('2001:db8:9:9::3')).toBe('too many handshakes');
      expect(limits.admit('2001:db8:9:a::1')).toBeUndefined();
    } finally {
      limits.stop();
    }
  });

  test('requests naming an unknown session spend the handshake budget of their /64, the one its handshakes spend', () => {
    // 1/s sustained, bursts of 2 (./socket-io guardUnknownSessions calls takeHandshake with the peer's address).
    const limits = new PerIpLimits({ maxConnections: 0, handshakesPerSecond: 1 });
    try {
      expect(limits.takeHandshake('2001:db8:7:7::1')).toBe(true);
      expect(limits.admit('2001:db8:7:7::2')).toBeUndefined();
      expect(limits.takeHandshake('2001:db8:7:7:ffff::3')).toBe(false);
      expect(limits.admit('2001:db8:7:7::4')).toBe('too many handshakes');
      expect(limits.takeHandshake('2001:db8:7:8::1')).toBe(true);
      expect(limits.takeHandshake('192.0.2.9')).toBe(true);
      expect(limits.takeHandshake('::ffff:192.0.2.9')).toBe(true);
      expect(limits.takeHandshake('192.0.2.9')).toBe(false);
    } finally {
      limits.stop();
    }
  });
});

describe('PreAuthCap', () => {
  test('admits up to its maximum; a release (counted once however often called) makes room again', () => {
    const cap = new PreAuthCap(2);
    const first = cap.enter();
    const second = cap.enter();
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(cap.enter()).toBeUndefined();
    expect(cap.full()).toBe(true);
    first?.();
    first?.();
    expect(cap.size).toBe(1);
    expect(cap.enter()).toBeDefined();
    expect(cap.enter()).toBeUndefined();
  });
});
