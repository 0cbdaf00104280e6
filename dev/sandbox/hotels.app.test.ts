import { describe, expect, it } from 'vitest';
import { jsonCaller } from '../../test/support/json-caller.js';
import { createHotelSandboxApp, type HotelFaults } from './hotels.app.js';

function staybridge(faults: Partial<HotelFaults> = {}) {
  let now = Date.parse('2026-11-29T10:00:00Z');
  const app = createHotelSandboxApp({ offerTtlMs: 60_000, holdTtlMs: 120_000, faults, now: () => now });
  const call = jsonCaller(app);
  const search = async (adults = 2) =>
    (await call('POST', '/availability', {
      destination: { cityCode: 'LON' },
      stay: { checkIn: '2027-01-10', checkOut: '2027-01-12' },
      occupancy: { adults },
    })).body.results as Array<{ rateKey: string; total: { value: string }; hotel: { code: string } }>;
  return { app, call, search, advance: (ms: number) => (now += ms), setFaults: (f: Partial<HotelFaults>) => call('PUT', '/_control/faults', f) };
}

const guests = { leadGuest: { givenName: 'Ada', familyName: 'Lovelace' }, guests: [{ givenName: 'Grace', familyName: 'Hopper' }] };

describe('StayBridge hotel sandbox', () => {
  it('shows the same hotels and totals for the same stay, priced per adult', async () => {
    const [one, two] = [await staybridge().search(2), await staybridge().search(2)];
    expect(one.map((r) => [r.hotel.code, r.total.value])).toEqual(two.map((r) => [r.hotel.code, r.total.value]));
    expect(one.length).toBeGreaterThan(0);
    const single = await staybridge().search(1);
    const first = one[0]!;
    const same = single.find((r) => r.rateKey.split('.').slice(0, 2).join() === first.rateKey.split('.').slice(0, 2).join())!;
    expect(Number(first.total.value)).toBeCloseTo(Number(same.total.value) * 2, 2);
  });

  it('answers errors as faults with codes and statuses of its own', async () => {
    const s = staybridge();
    expect(await s.call('POST', '/availability', { destination: 'LON' })).toMatchObject({ status: 400, body: { fault: { code: 'INVALID_REQUEST' } } });
    expect(await s.call('GET', '/rates/nope')).toMatchObject({ status: 404, body: { fault: { code: 'RATE_NOT_FOUND' } } });
    const [rate] = await s.search();
    s.advance(60_001);
    expect(await s.call('GET', `/rates/${rate!.rateKey}`)).toMatchObject({ status: 410, body: { fault: { code: 'RATE_EXPIRED' } } });
  });

  it('reserves once per client reference, commits to a voucher, and voids idempotently', async () => {
    const s = staybridge();
    const [rate] = await s.search();
    const request = { rateKey: rate!.rateKey, rooms: 1, clientReference: 'booking-1:hold' };
    const first = await s.call('POST', '/reservations', request);
    expect(first.status).toBe(201);
    expect(first.body.reservation).toMatchObject({ status: 'PROVISIONAL', total: rate!.total });
    const again = await s.call('POST', '/reservations', request);
    expect(again).toMatchObject({ status: 200, body: { reservation: { id: first.body.reservation.id } } });

    const id = first.body.reservation.id as string;
    expect((await s.call('POST', `/reservations/${id}/commit`, guests)).body.reservation).toMatchObject({ status: 'BOOKED', voucher: expect.stringMatching(/^SB-/) });
    expect((await s.call('POST', `/reservations/${id}/void`)).body.reservation.status).toBe('CANCELLED');
    expect((await s.call('POST', `/reservations/${id}/void`)).body.reservation.status).toBe('CANCELLED');
    const listed = await s.call('GET', '/reservations?clientReference=booking-1%3Ahold');
    expect(listed.body.reservations).toHaveLength(1);
  });

  it('lets a provisional reservation lapse, and refuses to commit it', async () => {
    const s = staybridge();
    const [rate] = await s.search();
    const { body } = await s.call('POST', '/reservations', { rateKey: rate!.rateKey, rooms: 1, clientReference: 'r' });
    s.advance(120_001);
    expect(await s.call('POST', `/reservations/${body.reservation.id}/commit`, guests)).toMatchObject({ status: 410, body: { fault: { code: 'RESERVATION_LAPSED' } } });
  });

  it('decides availability and price when reserving: SOLD_OUT, PRICE_CHANGED', async () => {
    const s = staybridge();
    const [rate] = await s.search();
    await s.setFaults({ soldOut: [rate!.hotel.code] });
    expect((await s.call('GET', `/rates/${rate!.rateKey}`)).status).toBe(200);
    expect(await s.call('POST', '/reservations', { rateKey: rate!.rateKey, rooms: 1, clientReference: 'a' })).toMatchObject({
      status: 409,
      body: { fault: { code: 'SOLD_OUT' } },
    });
    await s.setFaults({ priceIncreasePercent: 10 });
    expect(await s.call('POST', '/reservations', { rateKey: rate!.rateKey, rooms: 1, clientReference: 'b' })).toMatchObject({
      status: 409,
      body: { fault: { code: 'PRICE_CHANGED' } },
    });
  });

  it('commits with the guests\' names only, and shows them in the single-reservation retrieve alone', async () => {
    const s = staybridge();
    const [rate] = await s.search();
    const { body } = await s.call('POST', '/reservations', { rateKey: rate!.rateKey, rooms: 1, clientReference: 'names' });
    const commit = (request?: object) => s.call('POST', `/reservations/${body.reservation.id}/commit`, request);
    const withPassport = { ...guests, leadGuest: { ...guests.leadGuest, passportNumber: 'X1234567' } };
    for (const refused of [undefined, { guests: guests.guests }, withPassport]) {
      expect(await commit(refused), JSON.stringify(refused)).toMatchObject({ status: 400, body: { fault: { code: 'INVALID_REQUEST' } } });
    }
    const crowd = { ...guests, guests: [...guests.guests, { givenName: 'Alan', familyName: 'Turing' }] };
    expect(await commit(crowd)).toMatchObject({ status: 422, body: { fault: { code: 'OCCUPANCY_EXCEEDED' } } });

    const committed = await commit(guests);
    expect(committed.body.reservation.status).toBe('BOOKED');
    expect(committed.body.reservation.leadGuest).toBeUndefined();
    expect((await s.call('GET', '/reservations?clientReference=names')).body.reservations[0].guests).toBeUndefined();
    expect((await s.call('GET', `/reservations/${body.reservation.id}`)).body.reservation).toMatchObject(guests);
  });

  it('runs out of rooms as they are reserved', async () => {
    const s = staybridge();
    const [rate] = await s.search();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) statuses.push((await s.call('POST', '/reservations', { rateKey: rate!.rateKey, rooms: 1, clientReference: `r${i}` })).status);
    expect(statuses).toContain(201);
    expect(statuses.at(-1)).toBe(409);
  });
});
