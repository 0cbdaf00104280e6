import { describe, expect, it } from 'vitest';
import { fromMinor, toMinor } from './money.js';

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
});
