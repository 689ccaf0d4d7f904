/** Identity entities as the managers hand them around (not wire shapes: see api/<resource>/view.ts). */
export interface Project {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  domainId: string;
  parentId: string | null;
  isDomain: boolean;
  tags: string[];
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

/** A domain is stored as a project with isDomain; this is its wire-facing subset. */
export interface Domain {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  tags: string[];
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

export interface User {
  id: string;
  name: string;
  domainId: string;
  enabled: boolean;
  defaultProjectId: string | null;
  passwordExpiresAt: Date | null;
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

export interface Group {
  id: string;
  name: string;
  domainId: string;
  description: string;
  extra: Record<string, unknown>;
}

export interface Role {
  id: string;
  name: string;
  /** null for global roles. */
  domainId: string | null;
  description: string | null;
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

export type ScopeTarget =
  | { kind: 'project'; projectId: string }
  | { kind: 'domain'; domainId: string }
  | { kind: 'system' };

export interface CatalogService {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string | null; region_id: string | null; url: string }[];
}
