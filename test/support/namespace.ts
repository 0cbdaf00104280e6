// Test bookings live in a Temporal namespace of their own, out of the way of the developer's Web UI.
export const TEST_NAMESPACE = 'travelconnect-test';
