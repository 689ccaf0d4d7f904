import type { FastifyInstance } from 'fastify';
import { CONTAINER_FORMATS, DISK_FORMATS, IMAGE_STATUSES, MEMBER_STATUSES, VISIBILITIES } from '../../model/image.js';
import type { ImageApi } from '../context.js';
import { pagedCollectionSchema } from './collection.js';

const ro = (type: unknown, description: string, extra: Record<string, unknown> = {}) => ({ type, readOnly: true, description, ...extra });

/** Glance's image JSON schema (glance/api/v2/images.py get_schema), trimmed of its long descriptions. */
export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    properties: {
      id: { type: 'string', description: 'An identifier for the image', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$' },
      name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
      status: ro('string', 'Status of the image', { enum: IMAGE_STATUSES }),
      visibility: { type: 'string', description: 'Scope of image accessibility', enum: VISIBILITIES },
      protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
      os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
      checksum: ro(['null', 'string'], 'md5 hash of image contents.', { maxLength: 32 }),
      os_hash_algo: ro(['null', 'string'], 'Algorithm to calculate the os_hash_value', { maxLength: 64 }),
      os_hash_value: ro(['null', 'string'], 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo', { maxLength: 128 }),
      owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
      size: ro(['null', 'integer'], 'Size of image file in bytes'),
      virtual_size: ro(['null', 'integer'], 'Virtual size of image in bytes'),
      container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, ...CONTAINER_FORMATS] },
      disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
      created_at: ro('string', 'Date and time of image registration'),
      updated_at: ro('string', 'Date and time of the last image modification'),
      tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
      direct_url: ro('string', 'URL to access the image file kept in external store'),
      min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
      min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
      self: ro('string', 'An image self url'),
      file: ro('string', 'An image file url'),
      stores: ro('string', 'Store in which image data resides.  Only present when the operator has enabled multiple stores.'),
      schema: ro('string', 'An image schema url'),
      locations: { type: 'array', description: 'A set of URLs to access the image file kept in external store', items: { type: 'object', properties: { url: { type: 'string', maxLength: 255 }, metadata: { type: 'object' } }, required: ['url', 'metadata'] } },
    },
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

function memberSchema(): Record<string, unknown> {
  return {
    name: 'member',
    properties: {
      member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
      image_id: { type: 'string', description: 'An identifier for the image', pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$' },
      created_at: { type: 'string', description: 'Date and time of image member creation' },
      updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
      status: { type: 'string', description: 'The status of this image member', enum: MEMBER_STATUSES },
      schema: { readOnly: true, type: 'string' },
    },
  };
}

export async function schemaRoutes(app: FastifyInstance, api: ImageApi): Promise<void> {
  app.get('/v2/schemas/image', async (request) => {
    await api.guard(request, 'get_image');
    return imageSchema();
  });
  app.get('/v2/schemas/images', async (request) => {
    await api.guard(request, 'get_images');
    return pagedCollectionSchema('images', { type: 'array', items: imageSchema() });
  });
  app.get('/v2/schemas/member', async (request) => {
    await api.guard(request, 'get_member');
    return memberSchema();
  });
  app.get('/v2/schemas/members', async (request) => {
    await api.guard(request, 'get_members');
    return { name: 'members', properties: { members: { type: 'array', items: memberSchema() }, schema: { type: 'string' } }, links: [{ rel: 'describedby', href: '{schema}' }] };
  });
}
