/**
 * WS-Management namespace URIs and action URIs (MS-WSMV, DSP0226). These constants are the
 * only thing the simulator (`sim/`) and the connector's client (`connector/wsman/`) share:
 * each end parses and builds messages with its own code so that a misreading cannot agree
 * with itself.
 */
export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  addressing: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  msWsman: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  shell: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  wsmanFault: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
  wmiError: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError',
  transfer: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  powershellClixml: 'http://schemas.microsoft.com/powershell/2004/04',
} as const;

const TRANSFER = 'http://schemas.xmlsoap.org/ws/2004/09/transfer';
const SHELL = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell';

export const ACTION = {
  create: `${TRANSFER}/Create`,
  createResponse: `${TRANSFER}/CreateResponse`,
  delete: `${TRANSFER}/Delete`,
  deleteResponse: `${TRANSFER}/DeleteResponse`,
  get: `${TRANSFER}/Get`,
  getResponse: `${TRANSFER}/GetResponse`,
  command: `${SHELL}/Command`,
  commandResponse: `${SHELL}/CommandResponse`,
  receive: `${SHELL}/Receive`,
  receiveResponse: `${SHELL}/ReceiveResponse`,
  send: `${SHELL}/Send`,
  sendResponse: `${SHELL}/SendResponse`,
  signal: `${SHELL}/Signal`,
  signalResponse: `${SHELL}/SignalResponse`,
  wsmanFault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  addressingFault: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
} as const;

/** The resource URI of a cmd.exe shell (WinRS). */
export const CMD_SHELL_RESOURCE_URI = `${SHELL}/cmd`;
/** The anonymous reply-to address every request carries. */
export const ANONYMOUS_ADDRESS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

export const SIGNAL = {
  terminate: `${SHELL}/signal/terminate`,
  ctrlC: `${SHELL}/signal/ctrl_c`,
} as const;

export const COMMAND_STATE = {
  done: `${SHELL}/CommandState/Done`,
  running: `${SHELL}/CommandState/Running`,
  pending: `${SHELL}/CommandState/Pending`,
} as const;

/** WS-Management fault codes (the `Code` of a WSManFault) that the client acts on. */
export const FAULT_CODE = {
  /** w:TimedOut on Receive: no output within OperationTimeout; send Receive again. */
  operationTimeout: 2150858793,
  /** The shell or command id is unknown (shell reaped or never existed). */
  shellNotFound: 2150858843,
  /** MaxShellsPerUser reached. */
  shellQuota: 2150859173,
  /** MaxConcurrentOperationsPerUser reached. */
  operationQuota: 2150859174,
  /** The program was not found. */
  fileNotFound: 2147942402,
  /** Access denied. */
  accessDenied: 2147942405,
} as const;
