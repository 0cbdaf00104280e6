/**
 * KMS refused to unwrap this data key: not a key it knows, not for this encryption context, or not
 * a wrapped key at all. Asking again gives the same answer (unlike a timeout or throttling).
 */
export class DataKeyRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`KMS refused the wrapped data key (${reason})`);
    this.name = 'DataKeyRefusedError';
  }
}
