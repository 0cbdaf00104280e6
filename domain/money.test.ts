import { describe, expect, it } from 'vitest';
import { fromMinor, moneySchema, toMinor } from './money.js';

describe('money', () => {
  it('converts decimal strings to minor units and back without floats', () => {
    expect(toMinor({ amount: '123.45', currency: 'EUR' })).toBe(12345);
    expect(toMinor({ amount: '0.1', currency: 'EUR' })).toBe(10);
    expect(toMinor({ amount: '7', currency: 'GBP' })).toBe(700);
    expect(toMinor({ amount: '500', currency: 'JPY' })).toBe(500);
    expect(fromMinor(12345, 'EUR')).toEqual({ amount: '123.45', currency: 'EUR' });
    expect(fromMinor(5, 'EUR')).toEqual({ amount: '0.05', currency: 'EUR' });
    expect(fromMinor(500, 'JPY')).toEqual({ amount: '500', currency: 'JPY' });
  });

  it('refuses more decimals than the currency has, and negative or fractional minor units', () => {
    expect(() => toMinor({ amount: '1.5', currency: 'JPY' })).toThrow(RangeError);
    expect(() => fromMinor(-1, 'EUR')).toThrow(RangeError);
    expect(() => fromMinor(1.5, 'EUR')).toThrow(RangeError);
  });

  it('validates decimals per currency in the schema, so toMinor never sees an amount it refuses (SECURITY.md §37)', () => {
    const issues = (amount: string, currency: string) => moneySchema.safeParse({ amount, currency }).error?.issues ?? [];
    for (const [amount, currency] of [['100.5', 'JPY'], ['100.00', 'JPY'], ['1.234', 'EUR'], ['0.001', 'GBP']] as const) {
      const found = issues(amount, currency);
      expect(found.length, `${amount} ${currency}`).toBeGreaterThan(0);
      expect(found.every((issue) => issue.path.join('.') === 'amount'), `${amount} ${currency}`).toBe(true);
    }
    for (const [amount, currency] of [['100', 'JPY'], ['100.5', 'EUR'], ['100.55', 'USD'], ['7', 'CHF']] as const) {
      const parsed = moneySchema.parse({ amount, currency });
      expect(() => toMinor(parsed)).not.toThrow();
    }
    expect(issues('100', 'XXX').map((issue) => issue.path.join('.'))).toEqual(['currency']);
  });
});
