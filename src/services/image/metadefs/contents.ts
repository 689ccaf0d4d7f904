import { conflict, forbidden, notFound } from '../../../common/errors.js';
import { uuid } from '../../../common/ids.js';
import type { Caller } from '../caller.js';
import type { MetadefObject, MetadefProperty, MetadefTag, PropertyDefinition, ResourceType, ResourceTypeAssociation } from './model.js';
import type { MetadefRepository } from './repository.js';
import type { MetadefService, ObjectInput } from './service.js';

export function newObject(namespaceId: string, input: ObjectInput, now: string): MetadefObject {
  return { id: uuid(), namespaceId, name: input.name, description: input.description ?? null, required: input.required ?? null, properties: input.properties ?? null, createdAt: now, updatedAt: now };
}

export function newProperty(namespaceId: string, name: string, definition: PropertyDefinition, now: string): MetadefProperty {
  const { name: _ignored, ...rest } = definition;
  return { id: uuid(), namespaceId, name, definition: rest, createdAt: now, updatedAt: now };
}

export function newTag(namespaceId: string, name: string, now: string): MetadefTag {
  return { id: uuid(), namespaceId, name, createdAt: now, updatedAt: now };
}

export const duplicateTag = (tag: string, ns: string): string =>
  `A metadata tag with name=${tag} already exists in namespace=${ns}. (Please note that metadata tag names are case insensitive).`;

export function checkUnique(names: string[], message: (name: string) => string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw conflict(message(n));
    seen.add(n);
  }
}

/** What a namespace contains: objects, properties, tags and resource-type associations (Glance's rules). */
export class MetadefContents {
  private readonly repo: MetadefRepository;

  constructor(private readonly ns: MetadefService) {
    this.repo = ns.repo;
  }

  // Objects

  async getObject(caller: Caller, name: string, objectName: string): Promise<MetadefObject> {
    const ns = await this.ns.namespace(caller, name);
    const obj = await this.repo.object(ns.id, objectName);
    if (!obj) throw notFound(`The metadata definition object with name=${objectName} was not found in namespace=${name}.`);
    return obj;
  }

  async createObject(caller: Caller, name: string, input: ObjectInput): Promise<MetadefObject> {
    const ns = await this.ns.namespace(caller, name);
    const obj = newObject(ns.id, input, this.ns.now());
    await this.repo.transaction(async (repo, trx) => {
      if (await repo.object(ns.id, obj.name, trx)) throw conflict(`A metadata definition object with name=${obj.name} already exists in namespace=${name}.`);
      await repo.saveObject(obj, true, trx);
    });
    return obj;
  }

  async updateObject(caller: Caller, name: string, objectName: string, input: ObjectInput): Promise<MetadefObject> {
    const obj = await this.getObject(caller, name, objectName);
    const next: MetadefObject = { ...obj, name: input.name, description: input.description ?? null, required: input.required ?? null, properties: input.properties ?? null, updatedAt: this.ns.now() };
    await this.repo.transaction(async (repo, trx) => {
      if (next.name !== obj.name && (await repo.object(obj.namespaceId, next.name, trx))) throw conflict(`A metadata definition object with name=${next.name} already exists in namespace=${name}.`);
      await repo.saveObject(next, false, trx);
    });
    return next;
  }

  async deleteObject(caller: Caller, name: string, objectName: string): Promise<void> {
    const ns = await this.ns.namespace(caller, name);
    const obj = await this.getObject(caller, name, objectName);
    if (ns.protected) throw forbidden(`Metadata definition object ${objectName} is protected and cannot be deleted.`);
    await this.repo.deleteChildren('image_metadef_objects', obj.namespaceId, obj.name);
  }

  // Properties

  /** A property by name; with a resource type, the name carries that association's prefix (Glance strips it). */
  async getProperty(caller: Caller, name: string, propertyName: string, resourceType?: string): Promise<MetadefProperty> {
    const ns = await this.ns.namespace(caller, name);
    let lookup = propertyName;
    if (resourceType) {
      const assoc = (await this.repo.associations([ns.id])).get(ns.id)?.find((a) => a.name === resourceType);
      if (!assoc) throw notFound(`The metadata definition resource-type association of resource-type=${resourceType} to namespace=${name}, was not found.`);
      if (!assoc.prefix || !propertyName.startsWith(assoc.prefix)) {
        throw notFound(`Property ${propertyName} does not start with the expected resource type association prefix of '${assoc.prefix ?? ''}'.`);
      }
      lookup = propertyName.slice(assoc.prefix.length);
    }
    const prop = await this.repo.property(ns.id, lookup);
    if (!prop) throw notFound(`The metadata definition property with name=${lookup} was not found in namespace=${name}.`);
    return prop;
  }

  async listProperties(caller: Caller, name: string): Promise<MetadefProperty[]> {
    return this.repo.properties((await this.ns.namespace(caller, name)).id);
  }

  async createProperty(caller: Caller, name: string, definition: PropertyDefinition): Promise<MetadefProperty> {
    const ns = await this.ns.namespace(caller, name);
    const prop = newProperty(ns.id, String(definition.name), definition, this.ns.now());
    await this.repo.transaction(async (repo, trx) => {
      if (await repo.property(ns.id, prop.name, trx)) throw conflict(`A metadata definition property with name=${prop.name} already exists in namespace=${name}.`);
      await repo.saveProperty(prop, true, trx);
    });
    return prop;
  }

  async updateProperty(caller: Caller, name: string, propertyName: string, definition: PropertyDefinition): Promise<MetadefProperty> {
    const prop = await this.getProperty(caller, name, propertyName);
    const { name: newName, ...rest } = definition;
    const next: MetadefProperty = { ...prop, name: String(newName), definition: rest, updatedAt: this.ns.now() };
    await this.repo.transaction(async (repo, trx) => {
      if (next.name !== prop.name && (await repo.property(prop.namespaceId, next.name, trx))) throw conflict(`A metadata definition property with name=${next.name} already exists in namespace=${name}.`);
      await repo.saveProperty(next, false, trx);
    });
    return next;
  }

  async deleteProperty(caller: Caller, name: string, propertyName: string): Promise<void> {
    const ns = await this.ns.namespace(caller, name);
    const prop = await this.getProperty(caller, name, propertyName);
    if (ns.protected) throw forbidden(`Metadata definition property ${propertyName} is protected and cannot be deleted.`);
    await this.repo.deleteChildren('image_metadef_properties', prop.namespaceId, prop.name);
  }

  // Tags (names are unique regardless of case, as Glance's MySQL collation makes them)

  async listTags(caller: Caller, name: string): Promise<MetadefTag[]> {
    return this.repo.tags((await this.ns.namespace(caller, name)).id);
  }

  async getTag(caller: Caller, name: string, tagName: string): Promise<MetadefTag> {
    const tags = await this.listTags(caller, name);
    const tag = tags.find((t) => t.name === tagName);
    if (!tag) throw notFound(`The metadata definition tag with name=${tagName} was not found in namespace=${name}.`);
    return tag;
  }

  async createTag(caller: Caller, name: string, tagName: string): Promise<MetadefTag> {
    const ns = await this.ns.namespace(caller, name);
    const tag = newTag(ns.id, tagName, this.ns.now());
    await this.repo.transaction(async (repo, trx) => {
      const existing = await repo.tags(ns.id, trx);
      if (existing.some((t) => t.name.toLowerCase() === tagName.toLowerCase())) throw conflict(duplicateTag(tagName, name));
      await repo.saveTag(tag, true, trx);
    });
    return tag;
  }

  /** POST /tags: replaces every tag of the namespace, or adds to them with X-Openstack-Append. */
  async createTags(caller: Caller, name: string, names: string[], append: boolean): Promise<MetadefTag[]> {
    const ns = await this.ns.namespace(caller, name);
    const now = this.ns.now();
    const tags = names.map((n) => newTag(ns.id, n, now));
    checkUnique(names.map((n) => n.toLowerCase()), (n) => duplicateTag(n, name));
    await this.repo.transaction(async (repo, trx) => {
      if (append) {
        const existing = new Set((await repo.tags(ns.id, trx)).map((t) => t.name.toLowerCase()));
        const clash = names.find((n) => existing.has(n.toLowerCase()));
        if (clash !== undefined) throw conflict(duplicateTag(clash, name));
      } else {
        await repo.deleteChildren('image_metadef_tags', ns.id, undefined, trx);
      }
      for (const t of tags) await repo.saveTag(t, true, trx);
    });
    return tags;
  }

  async updateTag(caller: Caller, name: string, tagName: string, newName: string): Promise<MetadefTag> {
    const tag = await this.getTag(caller, name, tagName);
    const next: MetadefTag = { ...tag, name: newName, updatedAt: this.ns.now() };
    await this.repo.transaction(async (repo, trx) => {
      const clash = (await repo.tags(tag.namespaceId, trx)).some((t) => t.id !== tag.id && t.name.toLowerCase() === newName.toLowerCase());
      if (clash) throw conflict(duplicateTag(newName, name));
      await repo.saveTag(next, false, trx);
    });
    return next;
  }

  async deleteTag(caller: Caller, name: string, tagName: string): Promise<void> {
    const ns = await this.ns.namespace(caller, name);
    const tag = await this.getTag(caller, name, tagName);
    if (ns.protected) throw forbidden(`Metadata definition tag ${tagName} is protected and cannot be deleted.`);
    await this.repo.deleteChildren('image_metadef_tags', ns.id, tag.name);
  }

  // Resource types

  listResourceTypes(): Promise<ResourceType[]> {
    return this.repo.resourceTypes();
  }

  async associations(caller: Caller, name: string): Promise<ResourceTypeAssociation[]> {
    const ns = await this.ns.namespace(caller, name);
    return (await this.repo.associations([ns.id])).get(ns.id) ?? [];
  }

  /** Associates a resource type, creating the type on first use as Glance does. */
  async associate(caller: Caller, name: string, input: { name: string; prefix?: string; properties_target?: string }): Promise<ResourceTypeAssociation> {
    const ns = await this.ns.namespace(caller, name);
    const now = this.ns.now();
    const assoc: ResourceTypeAssociation = { name: input.name, prefix: input.prefix ?? null, propertiesTarget: input.properties_target ?? null, createdAt: now, updatedAt: now };
    await this.repo.transaction(async (repo, trx) => {
      const typeId = await repo.ensureResourceType(input.name, now, trx);
      const existing = (await repo.associations([ns.id], trx)).get(ns.id) ?? [];
      if (existing.some((a) => a.name === input.name)) {
        throw conflict(`The metadata definition resource-type association of resource-type=${input.name} to namespace=${name} already exists.`);
      }
      await repo.insertAssociation(ns.id, typeId, assoc, trx);
    });
    return assoc;
  }

  async dissociate(caller: Caller, name: string, typeName: string): Promise<void> {
    const ns = await this.ns.namespace(caller, name);
    const typeId = await this.repo.resourceTypeId(typeName);
    if (!typeId) throw notFound(`The metadata definition resource-type with name=${typeName}, was not found.`);
    if (ns.protected) throw forbidden(`Metadata definition resource-type-association ${typeName} is protected and cannot be deleted.`);
    if (!(await this.repo.deleteAssociation(ns.id, typeId))) {
      throw notFound(`The metadata definition resource-type association of resource-type=${typeName} to namespace=${name}, was not found.`);
    }
  }
}
