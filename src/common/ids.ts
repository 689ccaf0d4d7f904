import { randomBytes, randomUUID } from 'node:crypto';

/** Keystone-style ids: uuid4 as 32 lowercase hex characters without dashes. */
export const hexId = (): string => randomUUID().replaceAll('-', '');
/** Nova/Neutron-style ids: dashed uuid4. */
export const uuid = (): string => randomUUID();
export const requestId = (): string => `req-${randomUUID()}`;
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

const HEX32 = /^[0-9a-f]{32}$/;
const DASHED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isHexId = (text: string): boolean => HEX32.test(text);
export const isUuid = (text: string): boolean => DASHED.test(text.toLowerCase());
