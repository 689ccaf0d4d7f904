import type { Caller } from '../caller.js';
import type { Image } from '../model/image.js';
import { applyPatch, type PatchDraft } from '../patch.js';
import type { ImageService } from '../service.js';
import { LocationEdits } from './edits.js';

/**
 * PATCH /v2/images/{id}: the JSON-patch applied to a copy, new locations checked against their
 * stores, the image saved (with its data fields when locations changed), then the data of
 * removed locations deleted. Any error before the save leaves the image as it was.
 */
export async function updateImage(
  service: ImageService,
  caller: Caller,
  id: string,
  doc: unknown,
  draft: PatchDraft,
  authorize: (rule: 'set_image_location' | 'delete_image_location') => Promise<void>,
): Promise<Image> {
  const before = await service.getMutable(caller, id);
  const edits = new LocationEdits(service);
  const after = applyPatch(before, doc, draft, edits);
  if (edits.ops.has('add') || edits.ops.has('replace')) await authorize('set_image_location');
  if (edits.ops.has('remove')) await authorize('delete_image_location');
  if (edits.used) await edits.verify(after);
  const saved = await service.save(caller, before, after, { data: edits.used });
  if (edits.used) await edits.commit(saved);
  return saved;
}
