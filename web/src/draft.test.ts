import { beforeEach, describe, expect, it } from 'vitest';
import { claimDraft, draft, emptyPassenger, forgetDraft, type Offer } from './draft';

const offer = { offerId: 'sandbox:offer-1' } as Offer;
const typed = { ...emptyPassenger(), givenName: 'Ada', passportNumber: 'X1234567' };

describe('claimDraft', () => {
  beforeEach(() => forgetDraft());

  it('keeps a draft for its own user, and forgets it for another', () => {
    claimDraft('alice');
    Object.assign(draft, { offer, travellers: 1, passengers: [typed] });
    claimDraft('alice');
    expect(draft.passengers).toEqual([typed]);
    claimDraft('bob');
    expect(draft).toEqual({ owner: 'bob', travellers: 1, passengers: [], contact: { email: '', phone: '' }, notes: '' });
  });

  it('keeps only the offer of a draft nobody owned: no one\'s details reach whoever signs in', () => {
    Object.assign(draft, { offer, travellers: 2, passengers: [typed, typed], contact: { email: 'a@example.test', phone: '+447700900123' }, notes: 'x' });
    draft.payment = { offerId: offer.offerId, attempt: '[]', idempotencyKey: 'k', paymentMethodId: 'pm_1' };
    claimDraft('bob');
    expect(draft).toEqual({
      owner: 'bob', offer, travellers: 2, passengers: [emptyPassenger(), emptyPassenger()], contact: { email: '', phone: '' }, notes: '',
    });
  });
});
