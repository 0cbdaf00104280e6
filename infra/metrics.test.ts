import { describe, expect, it } from 'vitest';
import { cachedFor } from './metrics.js';

describe('cachedFor', () => {
  it('shares one call among concurrent callers and reuses its answer until ttl after it settled', async () => {
    let now = 0;
    let calls = 0;
    let release!: (value: number) => void;
    const cached = cachedFor(1_000, () => {
      calls += 1;
      return new Promise<number>((resolve) => (release = resolve));
    }, () => now);
    const waiting = [cached(), cached(), cached()];
    now = 5_000; // a slow query stays shared however long it takes
    const late = cached();
    release(7);
    expect(await Promise.all([...waiting, late])).toEqual([7, 7, 7, 7]);
    now = 5_999;
    await cached();
    expect(calls).toBe(1);
    now = 6_000;
    const next = cached();
    release(8);
    expect(await next).toBe(8);
    expect(calls).toBe(2);
  });

  it('keeps a failure for ttl too, then asks again', async () => {
    let now = 0;
    let calls = 0;
    const cached = cachedFor(1_000, async () => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
      return 'ok';
    }, () => now);
    await expect(cached()).rejects.toThrow('database down');
    now = 999;
    await expect(cached()).rejects.toThrow('database down');
    expect(calls).toBe(1);
    now = 1_000;
    await expect(cached()).resolves.toBe('ok');
  });
});
