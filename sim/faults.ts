import { FAULT_CODE } from '../shared/wsman.ts';
import type { FaultSpec } from './wsman-response.ts';

const UNEXPECTED_SELECTORS =
  'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors';

/** Receive found no output within OperationTimeout: the client sends Receive again. */
export const TIMED_OUT: FaultSpec = {
  code: FAULT_CODE.operationTimeout,
  soapCode: 'Receiver',
  subcode: 'w:TimedOut',
  reason:
    'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ',
};

/** The ShellId selector names no shell (never created, deleted or reaped). */
export function shellNotFound(shellId: string): FaultSpec {
  return {
    code: FAULT_CODE.shellNotFound,
    soapCode: 'Sender',
    subcode: 'w:InvalidSelectors',
    detail: UNEXPECTED_SELECTORS,
    reason:
      'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ',
    message:
      `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell ` +
      'was not found on the server. Possible causes are: the specified ShellId is incorrect or ' +
      'the shell no longer exists on the server. Provide the correct ShellId or create a new ' +
      'shell and retry the operation. ',
  };
}

/** The CommandId names no command of this shell (finished, terminated or never existed). */
export const COMMAND_NOT_FOUND: FaultSpec = {
  code: FAULT_CODE.shellNotFound,
  soapCode: 'Sender',
  subcode: 'w:InvalidSelectors',
  detail: UNEXPECTED_SELECTORS,
  reason:
    'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ',
  message:
    'The Windows Remote Shell received a request to perform an operation on a command ' +
    'identifier that does not exist. Either the command has completed execution or the client ' +
    'specified an invalid command identifier. ',
};

/** MaxShellsPerUser reached on this device. */
export function shellQuota(maxShells: number): FaultSpec {
  const reason =
    'The WS-Management service cannot process the request. This user is allowed a maximum ' +
    `number of ${maxShells} shells, which has been exceeded. Reduce the number of shells or ` +
    'increase the quota using the MaxShellsPerUser configuration setting. ';
  return { code: FAULT_CODE.shellQuota, soapCode: 'Receiver', subcode: 'w:QuotaLimit', reason };
}

/** The shell's operation budget is spent (Windows never frees a terminated command's slot). */
export const OPERATION_QUOTA: FaultSpec = {
  code: FAULT_CODE.operationQuota,
  soapCode: 'Receiver',
  subcode: 'w:QuotaLimit',
  reason:
    'The WS-Management service cannot process the request. This user is allowed a maximum ' +
    'number of concurrent operations, which has been exceeded. Close existing operations for ' +
    'this user, or raise the quota for this user. ',
};

/** WINRS_SKIP_CMD_SHELL was set and the program does not exist. */
export const FILE_NOT_FOUND: FaultSpec = {
  code: FAULT_CODE.fileNotFound,
  soapCode: 'Receiver',
  subcode: 'w:InternalError',
  reason: 'The system cannot find the file specified. ',
};

/**
 * The action is not one a WinRS shell supports. The code is ERROR_WSMAN_ACTION_NOT_SUPPORTED
 * as the simulator knows it; no capture of it is available to check against.
 */
export function actionNotSupported(action: string): FaultSpec {
  return {
    code: 2150858756,
    soapCode: 'Sender',
    subcode: 'a:ActionNotSupported',
    reason: `The WS-Management service cannot process the request. The action ${action} is not supported by the resource. `,
  };
}

/** The body does not have the elements the action needs. */
export function invalidRequest(what: string): FaultSpec {
  return {
    code: 2150858817,
    soapCode: 'Sender',
    subcode: 'w:SchemaValidationError',
    reason: `The WS-Management service cannot process the request because the XML is invalid: ${what}. `,
  };
}
