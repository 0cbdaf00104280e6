import { z } from 'zod';
import { moneySchema } from './money.js';
import { freeText } from './free-text.js';

// Letters of any script plus the punctuation real names carry (O'Brien, Jean-Luc, St. John).
export const personName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{M}][\p{L}\p{M}' .-]*$/u, 'must contain letters and common punctuation only');

const isoDate = z.iso.date();
const countryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code');
export const e164Phone = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +447700900123');
export const passportNumber = z.string().regex(/^[A-Za-z0-9]{6,15}$/, 'must be 6-15 letters or digits');

export const passengerSchema = z.strictObject({
  givenName: personName,
  familyName: personName,
  dateOfBirth: isoDate,
  passportNumber,
  passportCountry: countryCode,
  nationality: countryCode,
});
export type Passenger = z.infer<typeof passengerSchema>;

const stripHtml = (text: string) => text.replace(/<[^>]*>/g, '').replace(/[<>]/g, '');
const contactSchema = z.strictObject({ email: z.email().max(255), phone: e164Phone });
const notesSchema = freeText({ max: 2000 }).transform(stripHtml);

export const createBookingSchema = z.strictObject({
  offers: z
    .array(z.strictObject({ offerId: z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:-]+$/), expectedPrice: moneySchema }))
    .min(1)
    .max(4)
    // One item per offer (booking_items is unique on it): a repeat is the client's mistake, not a second seat.
    .refine((offers) => new Set(offers.map((o) => o.offerId)).size === offers.length, { message: 'must not name an offer twice' }),
  passengers: z.array(passengerSchema).min(1).max(9),
  contact: contactSchema,
  paymentMethodId: z.string().regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'must be a Stripe PaymentMethod id'),
  notes: notesSchema.optional(),
});
export type CreateBookingRequest = z.infer<typeof createBookingSchema>;

/** PATCH /bookings/{id}: the same field rules as at creation; an empty note clears it. */
export const bookingPatchSchema = z
  .strictObject({ notes: notesSchema.optional(), contact: contactSchema.optional() })
  .refine((patch) => patch.notes !== undefined || patch.contact !== undefined, { message: 'must change notes or contact' });
export type BookingPatch = z.infer<typeof bookingPatchSchema>;

export const idempotencyKeySchema = z.uuid();

export const flightSearchSchema = z.strictObject({
  origin: z.string().regex(/^[A-Z]{3}$/, 'must be an IATA airport code'),
  destination: z.string().regex(/^[A-Z]{3}$/, 'must be an IATA airport code'),
  departureDate: isoDate,
  // The example of docs/api.md "Search" sends `returnDate=` for a one-way search: empty is the same as absent.
  returnDate: isoDate
    .or(z.literal(''))
    .optional()
    .transform((date) => date || undefined),
  adults: z.coerce.number().int().min(1).max(9).default(1),
  cabin: z.enum(['economy', 'premium', 'business', 'first']).default('economy'),
});
export type FlightSearch = z.infer<typeof flightSearchSchema>;

const MAX_NIGHTS = 30;
const nightsBetween = (checkIn: string, checkOut: string) => (Date.parse(checkOut) - Date.parse(checkIn)) / 86_400_000;

export const hotelSearchSchema = z
  .strictObject({
    city: z.string().regex(/^[A-Z]{3}$/, 'must be an IATA city code'),
    checkIn: isoDate,
    checkOut: isoDate,
    guests: z.coerce.number().int().min(1).max(9).default(1),
  })
  .refine((q) => nightsBetween(q.checkIn, q.checkOut) >= 1, { path: ['checkOut'], message: 'must be after checkIn' })
  .refine((q) => nightsBetween(q.checkIn, q.checkOut) <= MAX_NIGHTS, {
    path: ['checkOut'],
    message: `must be at most ${MAX_NIGHTS} nights after checkIn`,
  });
export type HotelSearch = z.infer<typeof hotelSearchSchema>;

export const OFFER_KINDS = ['flight', 'hotel'] as const;
export type OfferKind = (typeof OFFER_KINDS)[number];

/** What every provider adapter returns for one offer. */
export interface Offer {
  offerId: string;
  provider: string;
  kind: OfferKind;
  price: z.infer<typeof moneySchema>;
  expiresAt: string;
  details: Record<string, unknown>;
}
