import { describe, expect, it } from 'vitest';
import { safeNext } from './safe-next';

const ORIGIN = 'https://app.travelconnect.example';

describe('where the login page sends the user (?next=)', () => {
  it('keeps a path of this app, with its query and fragment', () => {
    expect(safeNext('/book', ORIGIN)).toBe('/book');
    expect(safeNext('/bookings?status=CONFIRMED', ORIGIN)).toBe('/bookings?status=CONFIRMED');
    expect(safeNext('/bookings/6f1c0b9e-1d2a-4c55-9a51-3b7f4f1e2d10#cancel', ORIGIN)).toBe('/bookings/6f1c0b9e-1d2a-4c55-9a51-3b7f4f1e2d10#cancel');
  });

  it('sends anything that names another origin, or that a browser would rewrite into one, to the start page', () => {
    // `\` is `/` to a browser in an http(s) URL, and tabs and newlines are dropped from it.
    const elsewhere = [
      '//evil.example/x', '/\\evil.example/x', '\\\\evil.example/x', '/\t/evil.example/x', '/\n/evil.example/x', '/\r//evil.example',
      'https://evil.example/x', 'http:evil.example', 'javascript:alert(1)', 'evil.example/x', ' /x', '', null,
    ];
    for (const next of elsewhere) expect(safeNext(next, ORIGIN), JSON.stringify(next)).toBe('/');
  });

  it('does not send the user back to the login page', () => {
    expect(safeNext('/login', ORIGIN)).toBe('/');
    expect(safeNext('/login?next=%2Fbook', ORIGIN)).toBe('/');
  });
});
