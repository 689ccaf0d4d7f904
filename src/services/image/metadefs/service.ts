import type { ServiceDeps } from '../../../common/service.js';
import { badRequest, conflict, forbidden, notFound } from '../../../common/errors.js';
import { isoMicro } from '../../../common/db/time.js';
import { uuid } from '../../../common/ids.js';
import type { Caller } from '../caller.js';
import type { MetadefNamespace, NamespaceDetail, NamespaceVisibility, PropertyDefinition, ResourceTypeAssociation } from './model.js';
import { MetadefRepository } from './repository.js';
import { checkUnique, duplicateTag, newObject, newProperty, newTag } from './contents.js';

export interface NamespaceInput {
  namespace: string;
  display_name?: string;
  description?: string;
  visibility?: NamespaceVisibility;
  protected?: boolean;
  owner?: string;
  resource_type_associations?: { name: string; prefix?: string; properties_target?: string }[];
  properties?: Record<string, PropertyDefinition>;
  objects?: ObjectInput[];
  tags?: { name: string }[];
}

export interface ObjectInput {
  name: string;
  description?: string;
  required?: string[];
  properties?: Record<string, PropertyDefinition>;
}

export interface NamespaceListQuery {
  visibility?: NamespaceVisibility;
  resourceTypes?: string[];
  limit: number;
  marker?: string;
  sortKey: string;
  sortDir: 'asc' | 'desc';
}

const SORT_KEYS = ['namespace', 'display_name', 'description', 'visibility', 'protected', 'owner', 'created_at', 'updated_at', 'id'];

/** Glance's metadef rules: who sees a namespace, protection of namespace content, duplicate names. */
export class MetadefService {
  readonly repo: MetadefRepository;

  constructor(private readonly deps: ServiceDeps) {
    this.repo = new MetadefRepository(deps.db);
  }

  now(): string {
    return isoMicro(this.deps.clock.now());
  }

  /** Public namespaces, unowned ones and the caller's own; admins see everything. */
  visible(caller: Caller, ns: MetadefNamespace): boolean {
    return caller.isAdmin || ns.owner === null || ns.visibility === 'public' || (caller.project !== null && ns.owner === caller.project);
  }

  /** A namespace the caller may see; 404 otherwise, as Glance hides what is outside the project. */
  async namespace(caller: Caller, name: string): Promise<MetadefNamespace> {
    const ns = await this.repo.namespace(name);
    if (!ns) throw notFound(`Metadata definition namespace=${name} was not found.`);
    if (!this.visible(caller, ns)) throw notFound(`Namespace ${name} not found`);
    return ns;
  }

  async listNamespaces(caller: Caller, query: NamespaceListQuery): Promise<{ namespaces: NamespaceDetail[]; next: string | null }> {
    if (!SORT_KEYS.includes(query.sortKey)) throw badRequest(`Invalid sort key: ${query.sortKey}`);
    let all = (await this.repo.namespaces()).filter((ns) => this.visible(caller, ns));
    if (query.visibility) all = all.filter((ns) => ns.visibility === query.visibility);
    if (query.resourceTypes) {
      const ids = await this.repo.namespacesOfTypes(query.resourceTypes);
      all = all.filter((ns) => ids.has(ns.id));
    }
    const key = query.sortKey as keyof MetadefNamespace;
    const dir = query.sortDir === 'asc' ? 1 : -1;
    all.sort((a, b) => dir * (compare(a[key], b[key]) || compare(a.createdAt, b.createdAt) || compare(a.id, b.id)));
    if (query.marker !== undefined) {
      const at = all.findIndex((ns) => ns.namespace === query.marker);
      if (at < 0) throw notFound(`Metadata definition namespace=${query.marker} was not found.`);
      all = all.slice(at + 1);
    }
    const page = all.slice(0, query.limit);
    const associations = await this.repo.associations(page.map((ns) => ns.id));
    const next = page.length > 0 && page.length === query.limit ? page[page.length - 1]!.namespace : null;
    return { namespaces: page.map((ns) => ({ namespace: ns, objects: [], properties: [], tags: [], resourceTypes: associations.get(ns.id) ?? [] })), next };
  }

  async showNamespace(caller: Caller, name: string): Promise<NamespaceDetail> {
    const ns = await this.namespace(caller, name);
    const [objects, properties, tags, associations] = await Promise.all([
      this.repo.objects(ns.id),
      this.repo.properties(ns.id),
      this.repo.tags(ns.id),
      this.repo.associations([ns.id]),
    ]);
    return { namespace: ns, objects, properties, tags, resourceTypes: associations.get(ns.id) ?? [] };
  }

  /** Creates a namespace and everything nested in the request, all or nothing. */
  async createNamespace(caller: Caller, input: NamespaceInput): Promise<NamespaceDetail> {
    const now = this.now();
    const ns: MetadefNamespace = { id: uuid(), ...namespaceFields(caller, input), createdAt: now, updatedAt: now };
    const objects = (input.objects ?? []).map((o) => newObject(ns.id, o, now));
    const properties = Object.entries(input.properties ?? {}).map(([name, definition]) => newProperty(ns.id, name, definition, now));
    const tags = (input.tags ?? []).map((t) => newTag(ns.id, t.name, now));
    checkUnique(objects.map((o) => o.name), (n) => `A metadata definition object with name=${n} already exists in namespace=${ns.namespace}.`);
    checkUnique(tags.map((t) => t.name.toLowerCase()), (n) => `A metadata tag with name=${n} already exists in namespace=${ns.namespace}. (Please note that metadata tag names are case insensitive).`);
    const resourceTypes: ResourceTypeAssociation[] = (input.resource_type_associations ?? []).map((a) => ({ name: a.name, prefix: a.prefix ?? null, propertiesTarget: a.properties_target ?? null, createdAt: now, updatedAt: now }));
    checkUnique(resourceTypes.map((a) => a.name), (n) => `The metadata definition resource-type association of resource-type=${n} to namespace=${ns.namespace} already exists.`);
    await this.repo.transaction(async (repo, trx) => {
      if (await repo.namespace(ns.namespace, trx)) throw conflict(`The metadata definition namespace=${ns.namespace} already exists.`);
      await repo.insertNamespace(ns, trx);
      for (const o of objects) await repo.saveObject(o, true, trx);
      for (const p of properties) await repo.saveProperty(p, true, trx);
      for (const t of tags) await repo.saveTag(t, true, trx);
      for (const a of resourceTypes) await repo.insertAssociation(ns.id, await repo.ensureResourceType(a.name, now, trx), a, trx);
    });
    this.deps.events.publish('metadef_namespace.create', { namespace: ns.namespace });
    return { namespace: ns, objects, properties, tags, resourceTypes };
  }

  /** PUT replaces the namespace's own fields; omitted optional ones fall back to create's defaults. */
  async updateNamespace(caller: Caller, name: string, input: NamespaceInput): Promise<MetadefNamespace> {
    const ns = await this.namespace(caller, name);
    const next: MetadefNamespace = { ...ns, ...namespaceFields(caller, input), updatedAt: this.now() };
    await this.repo.transaction(async (repo, trx) => {
      if (next.namespace !== ns.namespace && (await repo.namespace(next.namespace, trx))) {
        throw conflict(`Invalid update. It would result in a duplicate metadata definition namespace with the same name of ${next.namespace}`);
      }
      await repo.updateNamespace(next, trx);
    });
    return next;
  }

  async deleteNamespace(caller: Caller, name: string): Promise<void> {
    const ns = await this.namespace(caller, name);
    if (ns.protected) throw forbidden(`Metadata definition namespace ${name} is protected and cannot be deleted.`);
    await this.repo.transaction((repo, trx) => repo.deleteNamespace(ns.id, trx));
    this.deps.events.publish('metadef_namespace.delete', { namespace: name });
  }

  /** DELETE /namespaces/{ns}/objects|properties|tags: only unprotected namespaces lose their content. */
  async deleteAllOf(caller: Caller, name: string, what: 'objects' | 'properties' | 'tags'): Promise<void> {
    const ns = await this.namespace(caller, name);
    if (ns.protected) throw forbidden(`Metadata definition namespace ${name} is protected and cannot be deleted.`);
    const table = what === 'objects' ? 'image_metadef_objects' : what === 'properties' ? 'image_metadef_properties' : 'image_metadef_tags';
    await this.repo.deleteChildren(table, ns.id);
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return String(a) < String(b) ? -1 : 1;
}

/** A namespace's own fields from a create or PUT body, with Glance's defaults for omitted ones. */
function namespaceFields(caller: Caller, input: NamespaceInput): Omit<MetadefNamespace, 'id' | 'createdAt' | 'updatedAt'> {
  return {
    namespace: input.namespace,
    displayName: input.display_name ?? null,
    description: input.description ?? null,
    visibility: input.visibility ?? 'private',
    protected: input.protected ?? false,
    owner: input.owner ?? caller.project,
  };
}
