import { describe, expect, it } from 'vitest';
import { isFareRule, refundMinor } from './fare-rules.js';

describe('fare rules', () => {
  it('refunds all of a flexible fare, half of a standard one and nothing of a saver', () => {
    expect(refundMinor('FLEX', 29_317)).toBe(29_317);
    expect(refundMinor('STANDARD', 29_317)).toBe(14_658);
    expect(refundMinor('SAVER', 29_317)).toBe(0);
  });
  it('knows only its own rules', () => {
    expect(isFareRule('FLEX')).toBe(true);
    expect(isFareRule('flex')).toBe(false);
    expect(isFareRule(undefined)).toBe(false);
  });
});
