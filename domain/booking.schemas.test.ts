import { describe, expect, it } from 'vitest';
import { flightSearchSchema } from './booking.schemas.js';

describe('flightSearchSchema', () => {
  const oneWay = { origin: 'JFK', destination: 'LHR', departureDate: '2027-01-10' };

  it('takes the example of docs/api.md "Search", an empty returnDate, as a one-way search', () => {
    const parsed = flightSearchSchema.parse({ ...oneWay, returnDate: '', adults: '1', cabin: 'economy' });
    expect(parsed.returnDate).toBeUndefined();
    expect(parsed).toEqual(flightSearchSchema.parse(oneWay));
  });

  it('keeps a return date, and still refuses one that is not a date', () => {
    expect(flightSearchSchema.parse({ ...oneWay, returnDate: '2027-01-17' }).returnDate).toBe('2027-01-17');
    expect(flightSearchSchema.safeParse({ ...oneWay, returnDate: 'next week' }).success).toBe(false);
    expect(flightSearchSchema.safeParse({ ...oneWay, returnDate: ' ' }).success).toBe(false);
  });
});
