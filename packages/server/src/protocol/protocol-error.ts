/**
 * Why a request failed, as a stable label for metrics (`reason`) and logs. The HTTP status follows
 * from it; the message goes to the client as `{"error": message}`.
 */
export const FAILURE_REASONS = {
  bad_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_encoding: 415,
  not_ready: 503,
  overloaded: 503,
  worker_exited: 503,
  shutting_down: 503,
  internal: 500,
} as const;

export type FailureReason = keyof typeof FAILURE_REASONS;

export class ProtocolError extends Error {
  readonly reason: FailureReason;

  constructor(reason: FailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.reason = reason;
  }

  get status(): number {
    return FAILURE_REASONS[this.reason];
  }
}

export const badRequest = (message: string): ProtocolError => new ProtocolError("bad_request", message);
