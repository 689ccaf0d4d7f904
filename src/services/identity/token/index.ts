// The token format's public surface; the token provider imports from here.
export { AUTH_METHODS, type AuthMethod, bitmaskToMethods, methodsToBitmask } from './auth-methods.js';
export { InvalidTokenError, type InvalidTokenReason } from './errors.js';
export { decrypt, encrypt, generateFernetKey, MAX_TOKEN_LENGTH, parseFernetKey, type FernetKey, type FernetKeys } from './fernet.js';
export { FernetKeyRepository, KeyRepositoryError } from './key-repository.js';
export {
  FernetTokenFormatter,
  newAuditId,
  PAYLOAD_VERSIONS,
  type FormatterOptions,
  type IssueRequest,
  type TokenPayload,
  type TokenScope,
} from './payload.js';
