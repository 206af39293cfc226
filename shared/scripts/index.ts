export { STATUS_SCRIPT, STATUS_SCRIPT_MARKER, StatusOutput } from './status.ts';
