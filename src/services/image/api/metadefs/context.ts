import type { FastifyRequest } from 'fastify';
import type { ServiceDeps } from '../../../../common/service.js';
import type { Caller } from '../../caller.js';
import { MetadefContents } from '../../metadefs/contents.js';
import type { MetadefService } from '../../metadefs/service.js';
import type { ImageApi } from '../context.js';

/** What the metadef route modules get: the image API's guard, the metadef service and the paging options. */
export class MetadefApi {
  readonly contents: MetadefContents;

  constructor(
    private readonly images: ImageApi,
    readonly metadefs: MetadefService,
    readonly config: ServiceDeps['config']['image'],
  ) {
    this.contents = new MetadefContents(metadefs);
  }

  guard(request: FastifyRequest, rule: string): Promise<Caller> {
    return this.images.guard(request, rule);
  }
}
