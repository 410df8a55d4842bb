import { UsageError } from '../core/errors.js';

/**
 * A read the reader refuses before sending any query: a key of the wrong type or shape,
 * a filter on a column the view does not have, an invalid read option.
 */
export class InvalidReadError extends UsageError {}
