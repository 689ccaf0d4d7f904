/**
 * Glance's envelope for the schema of a paged list (`/v2/schemas/images`, `/tasks`, metadef
 * collections): the list under the collection's own name, plus the paging links.
 */
export function pagedCollectionSchema(name: string, list: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    properties: {
      [name]: list,
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
    ...extra,
  };
}
