'use strict';
// Errors for the statuses of libconv1d's C API. Every call that returns a
// status other than CONV1D_OK throws a Conv1DError whose message is the
// library's conv1d_last_error_message(), with the status as `status` (number)
// and `code` (its C name, as Node's own errors carry a code).

/** conv1d_status values (include/conv1d/conv1d.h). Never renumbered. */
const Status = Object.freeze({
  OK: 0,
  NULL_POINTER: 1,
  INVALID_VALUE: 2,
  UNKNOWN_NAME: 3,
  UNKNOWN_PARAMETER: 4,
  WRONG_TYPE: 5,
  INVALID_SIZE: 6,
  SIZE_OVERFLOW: 7,
  BUFFER_TOO_SMALL: 8,
  STRIDES_WITH_DILATION: 9,
  GROUPS_MISMATCH: 10,
  EMPTY_OUTPUT: 11,
  CHANNELS_MISMATCH: 12,
  NOT_BUILT: 13,
  INVALID_STATE: 14,
  UNSUPPORTED: 15,
  PARSE: 16,
  OUT_OF_MEMORY: 17,
  IO: 18,
  INTERNAL: 19,
  LENGTH_MISMATCH: 20,
});

const NAME_OF_STATUS = new Map(Object.entries(Status).map(([name, value]) => [value, name]));

class Conv1DError extends Error {
  /**
   * @param {string} message the library's message
   * @param {number} status the conv1d_status
   * @param {string} statusString the library's fixed description of the status
   */
  constructor(message, status, statusString = '') {
    super(message);
    this.name = 'Conv1DError';
    this.status = status;
    this.statusString = statusString;
    const name = NAME_OF_STATUS.get(status);
    this.code = name ? `CONV1D_ERROR_${name}` : `CONV1D_STATUS_${status}`;
  }
}

function errorForStatus(status, message, statusString) {
  return new Conv1DError(message, status, statusString);
}

module.exports = { Status, Conv1DError, errorForStatus };
