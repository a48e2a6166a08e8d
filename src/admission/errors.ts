/**
 * Typed errors for requests refused before any object is judged. Each carries a stable code (for
 * logs, metrics and clients) and the HTTP status used when no AdmissionReview answer is possible.
 */
export type RequestErrorCode =
  | 'BAD_JSON'
  | 'BAD_UTF8'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'TOO_DEEP'
  | 'NOT_ADMISSION_REVIEW'
  | 'MISSING_REQUEST'
  | 'MISSING_UID'
  | 'BAD_REQUEST_FIELD'
  | 'UNSUPPORTED_KIND'
  | 'UNSUPPORTED_OPERATION'
  | 'UNSUPPORTED_SUBRESOURCE'
  | 'MISSING_OBJECT'
  | 'DEADLINE_EXCEEDED'
  | 'BODY_TIMEOUT'
  | 'OVERLOADED'
  | 'NOT_FOUND'
  | 'INTERNAL';

export class RequestError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    /** Status for an out-of-band HTTP answer (no uid to answer in-band). */
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = 'RequestError';
  }

  toJSON(): { code: RequestErrorCode; statusCode: number; message: string } {
    return { code: this.code, statusCode: this.httpStatus, message: this.message };
  }
}
